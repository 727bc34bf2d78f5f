package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/slipway/actions/internal/blobstore"
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

func TestPutOpenStat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, b := newStore(t, Options{})
	content := []byte("hello, archive in a bucket")
	want := digest.SHA256(sha256.Sum256(content))

	blob, err := s.Put(ctx, bytes.NewReader(content), want, 1<<20)
	if err != nil || blob.Digest != want || blob.Size != int64(len(content)) || blob.Existed {
		t.Fatalf("Put = %+v, %v", blob, err)
	}
	if got := keys(t, b); len(got) != 1 || got[0] != "sha256/"+want.Hex() {
		t.Errorf("bucket holds %q, want only sha256/%s", got, want.Hex())
	}
	// The same content again, digest not announced: stored once.
	blob, err = s.Put(ctx, bytes.NewReader(content), digest.SHA256{}, 0)
	if err != nil || !blob.Existed || blob.Digest != want {
		t.Fatalf("second Put = %+v, %v", blob, err)
	}
	if st, err := s.Stat(ctx, want); err != nil || st.Size != int64(len(content)) {
		t.Errorf("Stat = %+v, %v", st, err)
	}

	r, err := s.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(content)) {
		t.Errorf("Size() = %d", r.Size())
	}
	for _, tc := range []struct {
		off  int64
		n    int64
		want string
	}{{7, 7, "archive"}, {0, 5, "hello"}, {22, -1, "cket"}, {int64(len(content)), -1, ""}} {
		if _, err := r.Seek(tc.off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if tc.n < 0 {
			got, err = io.ReadAll(r)
		} else {
			got = make([]byte, tc.n)
			_, err = io.ReadFull(r, got)
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("read %d bytes at %d: %q, %v; want %q", tc.n, tc.off, got, err, tc.want)
		}
	}
	if end, err := r.Seek(-4, io.SeekEnd); err != nil || end != int64(len(content))-4 {
		t.Errorf("Seek(-4, SeekEnd) = %d, %v", end, err)
	}

	missing := digest.SHA256(sha256.Sum256([]byte("nope")))
	if _, err := s.Open(ctx, missing); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("Open(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, missing); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want ErrNotFound", err)
	}
}

func TestPutRefusals(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("x", 1000)
	other := digest.SHA256(sha256.Sum256([]byte("other")))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		want  digest.SHA256
		limit int64
		check func(error) bool
	}{
		{"over the limit", context.Background(), digest.SHA256{}, 999, func(err error) bool {
			var tl *blobstore.TooLargeError
			return errors.As(err, &tl) && tl.Limit == 999
		}},
		{"digest mismatch", context.Background(), other, 0, func(err error) bool {
			var m *blobstore.MismatchError
			return errors.As(err, &m) && m.Want == other && m.Size == 1000
		}},
		{"cancelled", cancelled, digest.SHA256{}, 0, func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	s, b := newStore(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Put(tt.ctx, strings.NewReader(content), tt.want, tt.limit); !tt.check(err) {
				t.Fatalf("Put error = %v", err)
			}
		})
	}
	if got := keys(t, b); len(got) != 0 {
		t.Errorf("refused Puts left %q in the bucket", got)
	}
	if left, _ := filepath.Glob(filepath.Join(s.opts.TempDir, "*")); len(left) != 0 {
		t.Errorf("refused Puts left %q in the staging directory", left)
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

// Concurrent Puts of the same content: all succeed, exactly one stores it.
func TestConcurrentSameDigest(t *testing.T) {
	t.Parallel()
	s, b := newStore(t, Options{})
	content := []byte("raced")
	const n = 8
	var wg sync.WaitGroup
	results := make([]blobstore.Blob, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.Put(context.Background(), bytes.NewReader(content), digest.SHA256{}, 0)
		})
	}
	wg.Wait()
	stored := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Put %d: %v", i, errs[i])
		}
		if !results[i].Existed {
			stored++
		}
	}
	if stored != 1 {
		t.Errorf("%d Puts stored the content, want exactly 1 (the others Existed)", stored)
	}
	if got := keys(t, b); len(got) != 1 {
		t.Errorf("bucket holds %q", got)
	}
}
