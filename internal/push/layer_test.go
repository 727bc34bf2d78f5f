package push

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/mediatype"
)

func testPusher(t testing.TB) *remote.Pusher {
	t.Helper()
	p, err := remote.NewPusher(remote.WithRetryBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testRepo(t testing.TB, ref string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFileLayerReadsOnce measures what an upload reads: a file with an
// unknown digest is read once, by the upload, which learns the digest; with
// a known digest it is read once too, and not at all when the repository
// already has the blob.
func TestFileLayerReadsOnce(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	content := randomBytes(t, 5<<20+3)
	path := writeFile(t, dir, "blob", content)
	size := int64(len(content))
	ctx := context.Background()

	lazy := newFileLayer(path, mediatype.OctetStream, size, digest.SHA256{})
	if _, err := lazy.Digest(); err == nil {
		t.Fatal("an unknown digest is known before the upload")
	}
	if err := testPusher(t).Upload(ctx, testRepo(t, addr+"/lazy"), lazy); err != nil {
		t.Fatal(err)
	}
	if got := lazy.reads.Load(); got != size {
		t.Errorf("unknown digest: the upload read %d bytes, want %d (one pass)", got, size)
	}
	h, err := lazy.Digest()
	if err != nil || h.String() != sha(content) {
		t.Errorf("digest learned by the upload = %s, %v; want %s", h, err, sha(content))
	}

	want, _ := digest.ParseHex(h.Hex)
	known := newFileLayer(path, mediatype.OctetStream, size, want)
	if err := testPusher(t).Upload(ctx, testRepo(t, addr+"/known"), known); err != nil {
		t.Fatal(err)
	}
	if got := known.reads.Load(); got != size {
		t.Errorf("known digest: the upload read %d bytes, want %d", got, size)
	}
	if err := testPusher(t).Upload(ctx, testRepo(t, addr+"/known"), known); err != nil {
		t.Fatal(err)
	}
	if got := known.reads.Load(); got != size {
		t.Errorf("known digest, blob present: %d more bytes read, want none", got-size)
	}
}

// TestUploadAfterHashingPass: a file this push hashed (unchanged since, its
// times settled) is uploaded without hashing it again, its identity checked
// instead; a file changed after the hashing pass fails the upload.
func TestUploadAfterHashingPass(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	content := randomBytes(t, 3<<20)
	path := writeFile(t, dir, "blob", content)
	changed := writeFile(t, dir, "changed", content)
	time.Sleep(digestcache.RacyWindow + 100*time.Millisecond)
	size := int64(len(content))

	l := newFileLayer(path, mediatype.OctetStream, size, digest.SHA256{})
	if err := l.hash(); err != nil {
		t.Fatal(err)
	}
	if err := testPusher(t).Upload(context.Background(), testRepo(t, addr+"/hashed"), l); err != nil {
		t.Fatal(err)
	}
	if r, h := l.reads.Load(), l.hashes.Load(); r != 2*size || h != size {
		t.Errorf("read %d bytes and hashed %d, want %d read (hashing pass, upload) and %d hashed (the pass only)", r, h, 2*size, size)
	}

	c := newFileLayer(changed, mediatype.OctetStream, size, digest.SHA256{})
	if err := c.hash(); err != nil {
		t.Fatal(err)
	}
	other := append([]byte(nil), content...)
	other[0]++
	if err := os.WriteFile(changed, other, 0o644); err != nil {
		t.Fatal(err)
	}
	err := testPusher(t).Upload(context.Background(), testRepo(t, addr+"/changed"), c)
	var ce *contentError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "changed while being pushed") {
		t.Errorf("upload of a file changed after its hashing pass: %v; want a contentError", err)
	}
}

// countingOpener counts what go-containerregistry's tarball layer reads.
type countingOpener struct {
	path         string
	opens, bytes atomic.Int64
}

func (c *countingOpener) open() (io.ReadCloser, error) {
	c.opens.Add(1)
	f, err := os.Open(c.path)
	if err != nil {
		return nil, err
	}
	return &countingReader{f: f, n: &c.bytes}, nil
}

type countingReader struct {
	f *os.File
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.n.Add(int64(n))
	return n, err
}
func (r *countingReader) Close() error { return r.f.Close() }

// TestTarballLayerFromOpenerReads documents what the obvious alternative,
// tarball.LayerFromOpener, reads for the same upload (it is not used: it
// also gzips a file that is not gzipped already, so the blob would not be
// the file). It logs the figures; it asserts only that it reads more.
func TestTarballLayerFromOpenerReads(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	content := randomBytes(t, 5<<20)
	c := &countingOpener{path: writeFile(t, dir, "blob", content)}
	l, err := tarball.LayerFromOpener(c.open, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	opensBefore, bytesBefore := c.opens.Load(), c.bytes.Load()
	if err := testPusher(t).Upload(context.Background(), testRepo(t, addr+"/tarball"), l); err != nil {
		t.Fatal(err)
	}
	size := float64(len(content))
	t.Logf("tarball.LayerFromOpener: %d opens and %.2f file sizes read before the upload (compression sniff, digest, diffID), %d opens and %.2f file sizes read by it; %.2f in all",
		opensBefore, float64(bytesBefore)/size, c.opens.Load()-opensBefore, float64(c.bytes.Load()-bytesBefore)/size, float64(c.bytes.Load())/size)
	if c.bytes.Load() <= int64(len(content)) {
		t.Errorf("tarball layer read %d bytes; expected more than one pass (%d) — if go-containerregistry changed, revisit the fileLayer", c.bytes.Load(), len(content))
	}
}

var _ v1.Layer = (*fileLayer)(nil)
