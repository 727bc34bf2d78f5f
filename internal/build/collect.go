package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/slipway/actions/internal/archive"
	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/fileset"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/regfile"
)

// item is one file read in the pass, with where its bytes go.
type item struct {
	file     fileset.File
	artifact bool   // digested and recorded
	inTar    string // entry name in the archive; "" when not in it
	inImage  string // entry name in the image layer; "" when not in it
}

// items merges the artifacts and the image files (both sorted by name)
// into one sorted list, so that each file is read once.
func items(artifacts, image []fileset.File, archive bool, imageDir string, imageIsArtifacts bool) []item {
	if imageIsArtifacts {
		image = artifacts
	}
	tarPrefix, imagePrefix := commonDir(artifacts), commonDir(image)
	var out []item
	i, j := 0, 0
	for i < len(artifacts) || j < len(image) {
		var it item
		switch {
		case j == len(image) || i < len(artifacts) && artifacts[i].Name < image[j].Name:
			it = item{file: artifacts[i], artifact: true}
			i++
		case i == len(artifacts) || image[j].Name < artifacts[i].Name:
			it = item{file: image[j]}
			it.inImage = path.Join(imageDir, strip(image[j].Name, imagePrefix))
			j++
		default: // the same file in both
			it = item{file: artifacts[i], artifact: true}
			it.inImage = path.Join(imageDir, strip(image[j].Name, imagePrefix))
			i++
			j++
		}
		if it.artifact && archive {
			it.inTar = strip(it.file.Name, tarPrefix)
		}
		out = append(out, it)
	}
	return out
}

// commonDir returns the deepest directory containing every file ("." when
// they share none): archive and image entries are named below it, as
// actions/upload-artifact names them.
func commonDir(files []fileset.File) string {
	if len(files) == 0 {
		return "."
	}
	prefix := path.Dir(files[0].Name)
	for _, f := range files[1:] {
		for prefix != "." && !strings.HasPrefix(f.Name, prefix+"/") {
			prefix = path.Dir(prefix)
		}
	}
	return prefix
}

func strip(name, dir string) string {
	if dir == "." {
		return name
	}
	return strings.TrimPrefix(name, dir+"/")
}

// sinks are the tar streams the pass feeds besides the digests.
type sinks struct {
	tar   *archive.Tar // nil without an archive
	image *archive.Tar // nil without an image
}

// reader reads files for the pass with one buffer.
type reader struct {
	root *os.Root
	buf  []byte
	head []byte
}

func newReader(root *os.Root) *reader {
	return &reader{root: root, buf: make([]byte, digest.BufferSize), head: make([]byte, 0, mediatype.HeadSize)}
}

// pass reads every item once: it digests the artifacts and copies each
// item into the tar streams it belongs to.
func (r *reader) pass(ctx context.Context, list []item, s sinks) ([]artifact.Record, error) {
	var records []artifact.Record
	for _, it := range list {
		rec, err := r.one(ctx, it, s)
		if err != nil {
			return nil, err
		}
		if it.artifact {
			records = append(records, rec)
		}
	}
	layoutTypes(records)
	return records, nil
}

// openArtifact opens an artifact inside the workspace; os.Root refuses any
// path that would leave it, even through a link changed since globbing, and
// regfile.OpenIn refuses (without blocking) a FIFO or device swapped in
// since. Tests replace it to make a read fail.
var openArtifact = func(root *os.Root, name string) (*os.File, error) { return regfile.OpenIn(root, name) }

func (r *reader) one(ctx context.Context, it item, s sinks) (artifact.Record, error) {
	name := it.file.Name
	f, err := openArtifact(r.root, it.file.Open)
	var notRegular *regfile.NotRegularError
	if errors.As(err, &notRegular) {
		return artifact.Record{}, exitcode.WithFile(exitcode.BadInputf("artifact %q: %w; artifacts must be files", name, err), name)
	}
	if err != nil {
		return artifact.Record{}, exitcode.WithFile(exitcode.Infraf("opening artifact %q: %w", name, err), name)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return artifact.Record{}, exitcode.Infraf("reading artifact %q: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return artifact.Record{}, exitcode.WithFile(exitcode.BadInputf("artifact %q is not a regular file (%v); artifacts must be files", name, fi.Mode().Type()), name)
	}
	exec := fi.Mode()&0o111 != 0
	var ws []io.Writer
	if it.inTar != "" {
		w, err := s.tar.File(it.inTar, exec, fi.Size())
		if err != nil {
			return artifact.Record{}, exitcode.Infraf("writing the archive: %w", err)
		}
		ws = append(ws, w)
	}
	if it.inImage != "" {
		w, err := s.image.File(it.inImage, exec, fi.Size())
		if err != nil {
			return artifact.Record{}, exitcode.Infraf("writing the image layer: %w", err)
		}
		ws = append(ws, w)
	}
	sum := digest.New()
	if err := r.copy(ctx, f, sum, ws); err != nil {
		if ctx.Err() != nil {
			return artifact.Record{}, err
		}
		return artifact.Record{}, exitcode.WithFile(exitcode.Infraf("reading artifact %q: %w", name, err), name)
	}
	return artifact.Record{
		Name: name, Path: name, Digest: sum.Digest(), Size: sum.Size(),
		MediaType: mediatype.Detect(name, r.head), Role: artifact.RoleArtifact,
	}, nil
}

// copy streams src into sum and ws with the reader's buffer, keeping the
// first bytes for media type detection. This is the only per-byte work of
// the stage besides SHA-256 (and compression when an archive or image is
// written).
func (r *reader) copy(ctx context.Context, src io.Reader, sum *digest.Sum, ws []io.Writer) error {
	r.head = r.head[:0]
	for {
		n, err := src.Read(r.buf)
		if n > 0 {
			chunk := r.buf[:n]
			if room := cap(r.head) - len(r.head); room > 0 {
				r.head = append(r.head, chunk[:min(room, n)]...)
			}
			sum.Write(chunk)
			for _, w := range ws {
				if _, werr := w.Write(chunk); werr != nil {
					return werr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", err)
		}
	}
}

// layoutTypes names the files of an OCI image layout among the artifacts:
// its oci-layout header and the index.json next to it.
func layoutTypes(records []artifact.Record) {
	dirs := map[string]bool{}
	for _, r := range records {
		if path.Base(r.Name) == "oci-layout" {
			dirs[path.Dir(r.Name)] = true
		}
	}
	for i, r := range records {
		switch {
		case path.Base(r.Name) == "oci-layout":
			records[i].MediaType = mediatype.OCILayoutHeader
		case path.Base(r.Name) == "index.json" && dirs[path.Dir(r.Name)]:
			records[i].MediaType = mediatype.OCIIndex
		}
	}
}
