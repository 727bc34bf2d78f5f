package push

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/regfile"
)

// fileLayer is one file pushed as a blob, as it is on disk (no compression).
// It is a v1.Layer whose Digest answers without reading the file when a
// record gives it (the build manifest, or the digest cache); otherwise the
// push learns it in one hashing pass (hash) before anything is sent, so
// that a blob the repository has, or can mount, is never uploaded. An
// upload hashes the bytes it sends and fails if they differ from the digest
// or size it promised. (Digest returns stream.ErrNotComputed before the
// digest is known, and an upload that goes ahead then learns it, as
// go-containerregistry streams such a layer: POST, PATCH, PUT ?digest=.)
//
// A whole read stores the digest it computed in the digest cache, when the
// file kept its identity during the read; a later read of the file at that
// identity (the upload after the hashing pass) checks the identity at its
// end instead of hashing again. Compressed may be called again
// when an upload is retried; each call reads the file anew from the start.
//
// Measured (TestFileLayerReadsOnce, TestTarballLayerFromOpenerReads,
// BenchmarkPush, BenchmarkRePush): an upload reads the file once, and
// nothing is read when the digest is known and the repository has (or can
// mount) the blob. go-containerregistry's tarball.LayerFromOpener reads a
// file three times for the same upload: when it is made (a gzip pass for the
// digest and a pass for the diffID) and again, gzipping once more, for the
// upload; and its blob is the gzipped file, not the file.
type fileLayer struct {
	path      string
	mediaType types.MediaType
	size      int64 // from the manifest, or os.Stat before the push
	// fromManifest is true when size and want come from the build manifest.
	fromManifest bool
	// cache receives the digest a read of the whole file computed (when the
	// file did not change during the read); nil for none. fromCache is true
	// when want came from it.
	cache     *digestcache.Cache
	fromCache bool

	mu   sync.Mutex
	want digest.SHA256 // zero when unknown
	got  digest.SHA256 // set by the first upload that read the whole file

	// hashedID is the file's identity when a read by this push computed its
	// digest, the file kept that identity during the read and its times
	// were settled (digestcache.Identity.Settled): a later read of the file
	// at that identity reads the same bytes, and is not hashed again.
	hashedID digestcache.Identity
	hashedOK bool

	reads  atomic.Int64 // bytes read from the file, for tests and benchmarks
	hashes atomic.Int64 // bytes hashed
	opens  atomic.Int64 // times the file was opened: none means mounted or present
}

// newFileLayer is the file at path; known is its digest when a record
// gives it (then the caller says which: fromManifest or fromCache).
func newFileLayer(path, mediaType string, size int64, known digest.SHA256) *fileLayer {
	return &fileLayer{path: path, mediaType: types.MediaType(mediaType), size: size, want: known}
}

// digest returns the content's digest and whether it is known.
func (l *fileLayer) digest() (digest.SHA256, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.want.IsZero() {
		return l.want, true
	}
	return l.got, !l.got.IsZero()
}

// hash learns the digest by reading the file once, without uploading it.
func (l *fileLayer) hash() error {
	if _, ok := l.digest(); ok {
		return nil
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := make([]byte, digest.BufferSize)
	if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, buf); err != nil {
		return err
	}
	return nil
}

func (l *fileLayer) Digest() (v1.Hash, error) {
	d, ok := l.digest()
	if !ok {
		return v1.Hash{}, stream.ErrNotComputed
	}
	return v1.Hash{Algorithm: "sha256", Hex: d.Hex()}, nil
}

// DiffID is the digest: the blob is not compressed.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.Digest() }

func (l *fileLayer) Size() (int64, error) { return l.size, nil }

func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }

// Compressed opens the file for an upload (or a hashing pass).
func (l *fileLayer) Compressed() (io.ReadCloser, error) {
	start := time.Now()
	f, err := regfile.Open(l.path)
	if err != nil {
		return nil, &fileError{path: l.path, err: fmt.Errorf("opening %q to push it: %w", l.path, err)}
	}
	l.opens.Add(1)
	r := &layerReader{l: l, f: f, sum: digest.New(), start: start, hashing: true}
	if fi, err := f.Stat(); err == nil {
		r.id, r.idOK = digestcache.IdentityOf(fi)
	}
	l.mu.Lock()
	if r.idOK && l.hashedOK && r.id == l.hashedID {
		r.hashing = false // this push hashed these very bytes: check the identity instead
	}
	l.mu.Unlock()
	return r, nil
}

// layerReader hashes what it reads and, at the end of the file, checks the
// size and digest the layer promised, or records the digest it learned.
type layerReader struct {
	l       *fileLayer
	f       *os.File
	sum     *digest.Sum
	hashing bool  // false: the file is checked by identity at the end
	n       int64 // bytes read
	err     error // sticky

	// The file's identity when it was opened, for the digest cache.
	start time.Time
	id    digestcache.Identity
	idOK  bool
}

func (r *layerReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.f.Read(p)
	if n > 0 {
		if r.hashing {
			r.sum.Write(p[:n])
			r.l.hashes.Add(int64(n))
		}
		r.n += int64(n)
		r.l.reads.Add(int64(n))
		if r.n > r.l.size {
			r.err = r.changed(fmt.Sprintf("has more than the %d bytes", r.l.size))
			return 0, r.err
		}
	}
	if errors.Is(err, io.EOF) {
		if cerr := r.finish(); cerr != nil {
			r.err = cerr
			return n, cerr
		}
	} else if err != nil {
		err = &fileError{path: r.l.path, err: fmt.Errorf("reading %q: %w", r.l.path, err)}
	}
	return n, err
}

func (r *layerReader) finish() error {
	if r.n != r.l.size {
		return r.changed(fmt.Sprintf("has %d bytes, not the %d", r.n, r.l.size))
	}
	if !r.hashing {
		if id, ok := r.identity(); !ok || id != r.id {
			return &contentError{path: r.l.path, msg: "changed while being pushed (its inode, size or times are not those it had when it was hashed); push it again once nothing writes to it"}
		}
		return nil
	}
	got := r.sum.Digest()
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	switch {
	case !r.l.want.IsZero() && got != r.l.want:
		return r.changed(fmt.Sprintf("has digest %s, not the %s", got, r.l.want))
	case !r.l.want.IsZero():
	case r.l.got.IsZero():
		r.l.got = got
	case r.l.got != got:
		return r.changed(fmt.Sprintf("has digest %s, not the %s", got, r.l.got))
	}
	r.remember(got)
	return nil
}

// remember notes, when the file kept its identity from open to end, that
// these bytes were hashed (see fileLayer.hashedID; the caller holds l.mu),
// and stores the digest in the cache.
func (r *layerReader) remember(got digest.SHA256) {
	id, ok := r.identity()
	if !r.idOK || !ok || id != r.id {
		return
	}
	if id.Settled(r.start) {
		r.l.hashedID, r.l.hashedOK = id, true
	}
	r.l.cache.Store(r.l.path, id, got, r.start)
}

// identity is the open file's identity now.
func (r *layerReader) identity() (digestcache.Identity, bool) {
	fi, err := r.f.Stat()
	if err != nil {
		return digestcache.Identity{}, false
	}
	return digestcache.IdentityOf(fi)
}

// changed is the error for content that differs from what was promised.
func (r *layerReader) changed(what string) error {
	if r.l.fromCache {
		r.l.cache.Forget(r.l.path)
		return &contentError{path: r.l.path, msg: what + " that the digest cache " + r.l.cache.Dir() + " recorded for it, although the file's identity (inode, size, times) is unchanged: the entry was wrong and is removed; push again"}
	}
	if r.l.fromManifest {
		return &contentError{path: r.l.path, msg: what + " that the build manifest records: it changed after the build; build again, or push it without the manifest"}
	}
	return &contentError{path: r.l.path, msg: what + " it had when the push began: it changed while being pushed; push it again once nothing writes to it"}
}

func (r *layerReader) Close() error { return r.f.Close() }

// contentError is a file whose content is not what it was promised to be.
// It is never retried.
type contentError struct {
	path, msg string
}

func (e *contentError) Error() string { return fmt.Sprintf("file %q %s", e.path, e.msg) }

// fileError is a file that cannot be opened or read.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
