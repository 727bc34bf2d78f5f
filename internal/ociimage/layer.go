package ociimage

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/archive"
	"github.com/slipway/actions/internal/digest"
)

// layerWriter streams a deterministic tar.gz layer into a blob file,
// hashing the tar (diff ID) and the gzip stream (digest) on the way.
type layerWriter struct {
	file   *os.File
	buf    *bufio.Writer
	gz     *gzip.Writer
	tar    *archive.Tar
	diffID *digest.Sum
	sum    *digest.Sum
}

func newLayerWriter(dir string, mtime time.Time) (*layerWriter, error) {
	f, err := os.CreateTemp(dir, ".layer-*")
	if err != nil {
		return nil, fmt.Errorf("creating the image layer: %w", err)
	}
	l := &layerWriter{file: f, diffID: digest.New(), sum: digest.New()}
	l.buf = bufio.NewWriterSize(io.MultiWriter(f, l.sum), digest.BufferSize)
	l.gz = archive.NewGzip(l.buf)
	l.tar = archive.NewTar(io.MultiWriter(l.diffID, l.gz), mtime)
	return l, nil
}

// finish completes the layer and renames it to its digest in dir.
func (l *layerWriter) finish(dir string) (*fileLayer, error) {
	err := l.tar.Close()
	if err == nil {
		err = l.gz.Close()
	}
	if err == nil {
		err = l.buf.Flush()
	}
	if err == nil {
		err = l.file.Close()
	}
	if err != nil {
		l.file.Close()
		return nil, fmt.Errorf("writing the image layer: %w", err)
	}
	d := l.sum.Digest()
	path := filepath.Join(dir, d.Hex())
	if err := os.Rename(l.file.Name(), path); err != nil {
		return nil, fmt.Errorf("writing the image layer: %w", err)
	}
	return &fileLayer{
		path:   path,
		digest: v1.Hash{Algorithm: "sha256", Hex: d.Hex()},
		diffID: v1.Hash{Algorithm: "sha256", Hex: l.diffID.Digest().Hex()},
		size:   l.sum.Size(),
	}, nil
}

// fileLayer is a v1.Layer whose compressed blob is a file and whose digests
// are already known.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

// ociLayer presents a base layer with the OCI media type matching its
// Docker one, so that the new manifest is OCI throughout.
type ociLayer struct {
	v1.Layer
	mediaType types.MediaType
}

func (l ociLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// ociMediaType maps Docker layer media types to their OCI equivalents (the
// bytes are the same); other types are kept.
func ociMediaType(mt types.MediaType) types.MediaType {
	switch mt {
	case types.DockerLayer:
		return types.OCILayer
	case types.DockerForeignLayer:
		return types.OCIRestrictedLayer
	case types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer
	}
	return mt
}
