package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/blobstore/blobstoretest"
	"github.com/slipway/actions/internal/digest"
	s3test "github.com/slipway/actions/internal/testutil/s3"
)

// newStore is a store in a fresh bucket of the machine's S3 service.
func newStore(t *testing.T, opts Options, bopts ...s3test.Option) (*Store, s3test.Bucket) {
	t.Helper()
	b := s3test.New(t, bopts...)
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	s, err := New(context.Background(), b.Client, b.Name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// keys lists the bucket.
func keys(t *testing.T, b s3test.Bucket) []string {
	t.Helper()
	out, err := b.Client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String(b.Name)})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	return ks
}

func TestConformance(t *testing.T) {
	t.Parallel()
	blobstoretest.Run(t, func(t *testing.T) blobstore.Store {
		s, _ := newStore(t, Options{})
		return s
	})
}

// What only the bucket shows: one key per blob under sha256/, nothing left
// by refused Puts, in the bucket or in the local staging directory.
func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newStore(t, Options{})
	content := []byte("hello, archive in a bucket")
	want := digest.SHA256(sha256.Sum256(content))
	if _, err := s.Put(ctx, bytes.NewReader(content), want, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, bytes.NewReader(content), digest.SHA256{}, 0); err != nil {
		t.Fatal(err)
	}
	other := digest.SHA256(sha256.Sum256([]byte("other")))
	if _, err := s.Put(ctx, strings.NewReader("x"), other, 0); err == nil {
		t.Fatal("Put with a wrong digest: no error")
	}
	if _, err := s.Put(ctx, strings.NewReader("xx"), digest.SHA256{}, 1); err == nil {
		t.Fatal("Put over the limit: no error")
	}
	if got := keys(t, b); len(got) != 1 || got[0] != "sha256/"+want.Hex() {
		t.Errorf("bucket holds %q, want only sha256/%s", got, want.Hex())
	}
	if left, _ := filepath.Glob(filepath.Join(s.opts.TempDir, "*")); len(left) != 0 {
		t.Errorf("Puts left %q in the staging directory", left)
	}
}

// The service checks the SHA-256 a single PutObject carries: a file that
// is not what its digest says is refused, and nothing is stored.
func TestAdoptWrongDigestRefusedByService(t *testing.T) {
	t.Parallel()
	s, b := newStore(t, Options{})
	path := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(path, []byte("what was received"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, n, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	if blob, err := s.Adopt(context.Background(), path, d, n); err != nil || blob.Existed {
		t.Fatalf("Adopt = %+v, %v", blob, err)
	}
	wrong := digest.SHA256(sha256.Sum256([]byte("something else")))
	if blob, err := s.Adopt(context.Background(), path, wrong, n); err == nil {
		t.Fatalf("Adopt with the wrong digest = %+v, want the service to refuse the checksum", blob)
	}
	if got := keys(t, b); len(got) != 1 || got[0] != "sha256/"+d.Hex() {
		t.Errorf("bucket holds %q, want only the right blob", got)
	}
}

// Blobs over the part size go as multipart uploads: content intact, a
// second copy is Existed (412 on completion or found first), no upload
// left behind.
func TestMultipart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newStore(t, Options{PartSize: 5 << 20})
	content := make([]byte, 11<<20+123)
	rand.Read(content)
	want := digest.SHA256(sha256.Sum256(content))
	blob, err := s.Put(ctx, bytes.NewReader(content), want, 0)
	if err != nil || blob.Existed || blob.Size != int64(len(content)) {
		t.Fatalf("Put = %+v, %v", blob, err)
	}
	r, err := s.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := digest.Copy(io.Discard, r)
	r.Close()
	if err != nil || got != want {
		t.Fatalf("read back: digest %s, %v; want %s", got, err, want)
	}
	// Completion with If-None-Match: * on a key that exists answers 412.
	f := filepath.Join(t.TempDir(), "again")
	os.WriteFile(f, content, 0o600)
	tmp, _ := os.Open(f)
	defer tmp.Close()
	if err := s.multipart(ctx, tmp, want, int64(len(content))); status(err) != 412 {
		t.Errorf("completing a multipart upload onto an existing key: %v, want 412", err)
	}
	ups, err := b.Client.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.Name)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("multipart uploads left: %v, %v", ups, err)
	}
}
