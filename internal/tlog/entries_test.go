package tlog

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// TestEntry: an entry read back by index, from the first, a full and a
// partial entry bundle, is the one appended there, with a receipt that
// verifies against the latest checkpoint; an index past it is
// ErrNotLogged.
func TestEntry(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	v, err := receipt.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Entry(context.Background(), 0); !errors.Is(err, ErrNotLogged) || !strings.Contains(err.Error(), "the log is empty") {
		t.Errorf("entry 0 of an empty log: %v, want ErrNotLogged saying it is empty", err)
	}
	const n = 300 // a full bundle of 256 and a partial one
	byIndex := make(map[uint64][]byte, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		e := testEntry(t, i, "dist/app", string(rune('a'+i%26)))
		wg.Go(func() {
			r, err := l.Append(context.Background(), e)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			byIndex[r.Index] = e
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, i := range []uint64{0, 1, 255, 256, 299} {
		r, err := l.Entry(context.Background(), i)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if r.Index != i || !bytes.Equal(r.Entry, byIndex[i]) {
			t.Errorf("entry %d: index %d, %q, want %q", i, r.Index, r.Entry, byIndex[i])
		}
		if err := receipt.Verify(r, byIndex[i], v); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	for _, i := range []uint64{n, 1 << 63} {
		if _, err := l.Entry(context.Background(), i); !errors.Is(err, ErrNotLogged) {
			t.Errorf("entry %d: %v, want ErrNotLogged", i, err)
		}
	}
}
