package tlog

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// TestFind: an entry is found by its bytes from a Size read before its
// append, in the first and a later entry bundle, with a receipt that
// verifies; bytes the log does not hold, or holds only before from, are
// ErrNotLogged. Appending the same bytes again answers the first index
// (no second entry), and a log opened again starts Size at its checkpoint.
func TestFind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openTest(t, dir, Options{})
	ctx := context.Background()
	v, err := receipt.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if l.Size() != 0 {
		t.Errorf("Size of an empty log = %d, want 0", l.Size())
	}
	entries := make([][]byte, 300) // by index: a full bundle and a partial one
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range len(entries) {
		e := testEntry(t, i, "dist/app", "x")
		wg.Go(func() {
			r, err := l.Append(ctx, e)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			entries[r.Index] = e
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if l.Size() != 300 {
		t.Errorf("Size after 300 appends = %d, want 300", l.Size())
	}
	for _, c := range []struct {
		from, index uint64
	}{{0, 0}, {0, 5}, {200, 255}, {0, 299}, {256, 270}, {299, 299}} {
		r, err := l.Find(ctx, c.from, entries[c.index])
		if err != nil {
			t.Fatalf("Find(%d, entry %d): %v", c.from, c.index, err)
		}
		if r.Index != c.index || !bytes.Equal(r.Entry, entries[c.index]) {
			t.Errorf("Find(%d, entry %d) = index %d", c.from, c.index, r.Index)
		}
		if err := receipt.Verify(r, entries[c.index], v); err != nil {
			t.Errorf("Find(%d, entry %d): %v", c.from, c.index, err)
		}
	}
	for _, c := range []struct {
		name  string
		from  uint64
		entry []byte
	}{
		{"not logged", 0, testEntry(t, 1000, "dist/app", "x")},
		{"only before from", 11, entries[10]},
		{"from past the end", 1 << 40, entries[0]},
	} {
		if _, err := l.Find(ctx, c.from, c.entry); !errors.Is(err, ErrNotLogged) {
			t.Errorf("%s: %v, want ErrNotLogged", c.name, err)
		}
	}
	again, err := l.Append(ctx, entries[7])
	if err != nil {
		t.Fatal(err)
	}
	if again.Index != 7 || l.Size() != 300 {
		t.Errorf("the same bytes appended again: index %d, Size %d; want 7 and 300 (no second entry)", again.Index, l.Size())
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, Options{})
	if err := l.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if l.Size() != 300 {
		t.Errorf("Size of the log opened again = %d, want 300", l.Size())
	}
}
