package blobstoretest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
)

// Run runs the suite; newStore returns an empty store for one subtest.
func Run(t *testing.T, newStore func(t *testing.T) blobstore.Store) {
	t.Run("PutOpenStat", func(t *testing.T) { t.Parallel(); putOpenStat(t, newStore(t)) })
	t.Run("Refusals", func(t *testing.T) { t.Parallel(); refusals(t, newStore(t)) })
	t.Run("ConcurrentSameDigest", func(t *testing.T) { t.Parallel(); concurrentSameDigest(t, newStore(t)) })
}

func putOpenStat(t *testing.T, s blobstore.Store) {
	ctx := context.Background()
	content := []byte("hello, archive")
	want := digest.SHA256(sha256.Sum256(content))

	b, err := s.Put(ctx, bytes.NewReader(content), want, 1<<20)
	if err != nil || b.Digest != want || b.Size != int64(len(content)) || b.Existed {
		t.Fatalf("Put = %+v, %v", b, err)
	}
	// The same content again, with no announced digest: stored once.
	b, err = s.Put(ctx, bytes.NewReader(content), digest.SHA256{}, 0)
	if err != nil || !b.Existed || b.Digest != want {
		t.Fatalf("second Put = %+v, %v", b, err)
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
		n    int64 // -1: to the end
		want string
	}{{7, 7, "archive"}, {0, 5, "hello"}, {10, -1, "hive"}, {int64(len(content)), -1, ""}} {
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

// refusals: over the limit, a digest mismatch, a cancelled context; the
// content is not stored after any of them, and exactly the limit is fine.
func refusals(t *testing.T, s blobstore.Store) {
	content := strings.Repeat("x", 1000)
	d := digest.SHA256(sha256.Sum256([]byte(content)))
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
			return errors.As(err, &tl) && tl.Limit == 999 && strings.Contains(err.Error(), "limit of 999 bytes")
		}},
		{"digest mismatch", context.Background(), other, 0, func(err error) bool {
			var m *blobstore.MismatchError
			return errors.As(err, &m) && m.Want == other && m.Got == d && m.Size == 1000
		}},
		{"cancelled", cancelled, digest.SHA256{}, 0, func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		if _, err := s.Put(tt.ctx, strings.NewReader(content), tt.want, tt.limit); !tt.check(err) {
			t.Errorf("%s: Put error = %v", tt.name, err)
		}
		if _, err := s.Stat(context.Background(), d); !errors.Is(err, blobstore.ErrNotFound) {
			t.Fatalf("%s: after the refused Put, Stat = %v, want ErrNotFound", tt.name, err)
		}
	}
	if _, err := s.Put(context.Background(), strings.NewReader(content), d, 1000); err != nil {
		t.Errorf("Put of exactly the limit: %v", err)
	}
}

// concurrentSameDigest: Puts of the same content at once all succeed and
// exactly one of them stores it.
func concurrentSameDigest(t *testing.T, s blobstore.Store) {
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
}
