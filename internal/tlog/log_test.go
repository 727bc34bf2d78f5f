package tlog

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/tlog/receipt"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestAppendConcurrentReceiptsVerify(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	v, err := receipt.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	receipts := make([]*receipt.Receipt, n)
	entries := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		entries[i] = testEntry(t, i, "dist/app", string(rune('a'+i%26))+strings.Repeat("x", i))
		wg.Go(func() {
			r, err := l.Append(context.Background(), entries[i])
			if err != nil {
				t.Error(err)
				return
			}
			receipts[i] = r
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i, r := range receipts {
		if r == nil {
			t.Fatalf("append %d returned no receipt", i)
		}
		if seen[r.Index] {
			t.Fatalf("index %d handed out twice", r.Index)
		}
		seen[r.Index] = true
		parsed, err := receipt.Parse(r.Marshal())
		if err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		if err := receipt.Verify(parsed, entries[i], v); err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		// The same entry, freshly proved against the latest checkpoint.
		again, err := l.Receipt(context.Background(), r.Index, entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := receipt.Verify(again, nil, v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendAfterClose(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(context.Background(), testEntry(t, 1, "a", "a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}

func TestKeyFiles(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	dir := filepath.Join(data, "log")
	l := openTest(t, dir, Options{Origin: "slipway.example/log"})
	key := filepath.Join(data, "log.key")
	info, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %04o, want 0600", info.Mode().Perm())
	}
	pub, err := os.ReadFile(filepath.Join(data, "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(pub)) != l.VerifierKey() || !strings.HasPrefix(l.VerifierKey(), "slipway.example/log+") {
		t.Fatalf("log.pub = %q, VerifierKey = %q", pub, l.VerifierKey())
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Reopened without an origin, the key names it; the verifier file is
	// rewritten when lost.
	if err := os.Remove(filepath.Join(data, "log.pub")); err != nil {
		t.Fatal(err)
	}
	l2 := openTest(t, dir, Options{KeyFile: key})
	if l2.Origin() != "slipway.example/log" || l2.VerifierKey() != l.VerifierKey() {
		t.Fatalf("reopened: origin %q key %q", l2.Origin(), l2.VerifierKey())
	}
	if pub2, err := os.ReadFile(filepath.Join(data, "log.pub")); err != nil || string(pub2) != string(pub) {
		t.Fatalf("log.pub rewritten as %q, %v", pub2, err)
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, key string)
		opts  Options
		want  string
	}{
		{"other origin", nil, Options{Origin: "other.example/log"}, `signs for origin "slipway.example/log", not "other.example/log"`},
		{"readable by others", func(t *testing.T, key string) { chmod(t, key, 0o644) }, Options{}, "chmod 600"},
		{"not a key", func(t *testing.T, key string) { write(t, key, "PRIVATE+KEY+nonsense\n") }, Options{}, "not a note signing key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := filepath.Join(t.TempDir(), "log.key")
			raw, err := os.ReadFile(key)
			if err != nil {
				t.Fatal(err)
			}
			write(t, k, string(raw))
			if tc.setup != nil {
				tc.setup(t, k)
			}
			tc.opts.KeyFile = k
			_, err = Open(context.Background(), filepath.Join(t.TempDir(), "log"), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(string(raw))) {
				t.Fatal("the error quotes the private key")
			}
		})
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestConsistencyProofs(t *testing.T) {
	t.Parallel()
	l := openTest(t, "", Options{})
	roots := map[uint64][]byte{}
	var sizes []uint64
	n := 0
	// Rounds of concurrent appends; each round ends at a checkpoint.
	for _, round := range []int{1, 2, 37, 260, 3} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last *receipt.Receipt
		for range round {
			e := testEntry(t, n, "a", strings.Repeat("a", n))
			n++
			wg.Go(func() {
				r, err := l.Append(context.Background(), e)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if last == nil || r.Index > last.Index {
					last = r
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		cp, err := l.Receipt(context.Background(), last.Index, last.Entry)
		if err != nil {
			t.Fatal(err)
		}
		tree, err := cp.Tree(l.Verifier())
		if err != nil {
			t.Fatal(err)
		}
		if tree.Size != uint64(n) {
			t.Fatalf("after %d appends the checkpoint has size %d", n, tree.Size)
		}
		roots[tree.Size] = tree.Hash
		sizes = append(sizes, tree.Size)
	}
	for _, from := range sizes {
		for _, to := range sizes {
			if from > to {
				continue
			}
			p, err := l.ConsistencyProof(context.Background(), from, to)
			if err != nil {
				t.Fatalf("%d->%d: %v", from, to, err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, from, to, p, roots[from], roots[to]); err != nil {
				t.Fatalf("%d->%d: %v", from, to, err)
			}
		}
	}
	if _, err := l.ConsistencyProof(context.Background(), 5, 4); err == nil || !strings.Contains(err.Error(), "from <= to") {
		t.Fatalf("5->4: %v", err)
	}
	if _, err := l.ConsistencyProof(context.Background(), 1, 1<<40); err == nil || !strings.Contains(err.Error(), "latest checkpoint's size") {
		t.Fatalf("1->2^40: %v", err)
	}
}

// TestGoldenReceipt pins the receipt text: the third entry of a log with a
// fixed key. The golden file must keep verifying with that key, whatever
// changes in the code that writes receipts.
func TestGoldenReceipt(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	v := writeSeededKey(t, filepath.Join(data, "log.key"), "slipway.test/golden")
	l := openTest(t, filepath.Join(data, "log"), Options{KeyFile: filepath.Join(data, "log.key")})
	var r *receipt.Receipt
	for i := range 3 {
		var err error
		if r, err = l.Append(context.Background(), testEntry(t, i, "dist/app", "app v1."+string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	golden := filepath.Join("testdata", "receipt.golden")
	if *update {
		if err := os.WriteFile(golden, r.Marshal(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Marshal()) != string(want) {
		t.Fatalf("receipt =\n%s\nwant (testdata/receipt.golden; -update to rewrite)\n%s", r.Marshal(), want)
	}
	parsed, err := receipt.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := receipt.Verify(parsed, nil, v); err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(parsed.Checkpoint, "slipway.test/golden", v)
	if err != nil || cp.Size != 3 || parsed.Index != 2 {
		t.Fatalf("golden checkpoint %+v index %d: %v", cp, parsed.Index, err)
	}
}

// TestCloseFinishesAppends closes the log while appends are in flight:
// every append returns a receipt that verifies or ErrClosed, and after a
// reopen every receipt handed out still verifies against the new
// checkpoint.
func TestCloseFinishesAppends(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "log")
	l, err := Open(context.Background(), dir, Options{Origin: "slipway.test/close"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []*receipt.Receipt
	closed := 0
	var wg sync.WaitGroup
	first := make(chan struct{}) // closed when the first receipt is back
	var once sync.Once
	appendOne := func(i int) {
		r, err := l.Append(context.Background(), testEntry(t, i, "a", strings.Repeat("c", i)))
		if err == nil {
			once.Do(func() { close(first) })
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, ErrClosed):
			closed++
		case err != nil:
			t.Error(err)
		default:
			got = append(got, r)
		}
	}
	var armed atomic.Bool
	var added sync.WaitGroup
	added.Add(50)
	var n atomic.Int32
	l.afterAdd = func() {
		if armed.Load() && n.Add(1) <= 50 {
			added.Done()
		}
	}
	for i := range 100 {
		wg.Go(func() { appendOne(i) })
	}
	<-first
	// A second wave: Close once 50 of its entries are handed to tessera and
	// before they are published; the rest race Close.
	armed.Store(true)
	for i := 100; i < 200; i++ {
		wg.Go(func() { appendOne(i) })
	}
	added.Wait()
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("%d receipts, %d refused as closed", len(got), closed)
	if len(got)+closed != 200 {
		t.Fatalf("%d receipts + %d refused != 200 appends", len(got), closed)
	}
	l2 := openTest(t, dir, Options{Origin: "slipway.test/close"})
	for _, r := range got {
		if err := receipt.Verify(r, nil, l2.Verifier()); err != nil {
			t.Fatal(err)
		}
		if _, err := l2.Receipt(context.Background(), r.Index, r.Entry); err != nil {
			t.Fatalf("entry %d after reopening: %v", r.Index, err)
		}
	}
}
