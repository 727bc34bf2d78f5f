package tlog

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/tlog/receipt"
)

const crashChildEnv = "SLIPWAY_TLOG_CRASH_CHILD"

// crashChild appends to the log in dir from 16 goroutines until it is
// killed, printing each receipt (base64, one a line) as soon as it has it.
func crashChild(dir string) {
	l, err := Open(context.Background(), dir, Options{Origin: "slipway.test/crash"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	appendForever(l, 0)
}

// appendForever appends to l from 16 goroutines until the process is
// killed, printing each receipt (base64, one a line) as soon as it has it;
// entries are numbered from first.
func appendForever(l *Log, first int) {
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				e := testEntry(nopTB{}, first+g*1_000_000+i, fmt.Sprintf("dist/app-%d", g), fmt.Sprint(i))
				r, err := l.Append(context.Background(), e)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintln(out, base64.StdEncoding.EncodeToString(r.Marshal()))
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// nopTB lets the child use testEntry outside a test.
type nopTB struct{ testing.TB }

func (nopTB) Helper()           {}
func (nopTB) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(2) }

// TestReopenAfterKill kills a process in the middle of appends (SIGKILL, no
// Close), reopens the log and checks that every receipt handed out before
// the kill still verifies, against its own checkpoint and against the new
// one, and that the new checkpoint is consistent with every old one.
func TestReopenAfterKill(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	receipts := readReceipts(t, stdout, 300)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(receipts) < 300 {
		t.Fatalf("the child handed out %d receipts before it ended; want 300 (see its stderr above)", len(receipts))
	}

	l := openTest(t, dir, Options{Origin: "slipway.test/crash"})
	// An append after the restart publishes a checkpoint that also covers
	// what was integrated but not yet checkpointed at the kill.
	after, err := l.Append(context.Background(), testEntry(t, 1, "after", "restart"))
	if err != nil {
		t.Fatal(err)
	}
	now, err := after.Tree(l.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range receipts {
		if err := receipt.Verify(r, nil, l.Verifier()); err != nil {
			t.Fatalf("receipt of entry %d after the restart: %v", r.Index, err)
		}
		old, err := r.Tree(l.Verifier())
		if err != nil {
			t.Fatal(err)
		}
		if old.Size > now.Size {
			t.Fatalf("a receipt before the kill has tree size %d, the log now %d: entries were lost", old.Size, now.Size)
		}
		p, err := l.ConsistencyProof(context.Background(), old.Size, now.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, now.Size, p, old.Hash, now.Hash); err != nil {
			t.Fatalf("checkpoint of size %d before the kill is not consistent with size %d after: %v", old.Size, now.Size, err)
		}
		fresh, err := l.Receipt(context.Background(), r.Index, r.Entry)
		if err != nil {
			t.Fatalf("entry %d after the restart: %v", r.Index, err)
		}
		if err := receipt.Verify(fresh, nil, l.Verifier()); err != nil {
			t.Fatal(err)
		}
	}
}

// readReceipts reads up to n receipts a child prints (appendForever).
func readReceipts(t *testing.T, stdout io.Reader, n int) []*receipt.Receipt {
	t.Helper()
	var receipts []*receipt.Receipt
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for len(receipts) < n && sc.Scan() {
		raw, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		r, err := receipt.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	return receipts
}
