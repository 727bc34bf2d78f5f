package tlog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// awsChildEnv carries an awsChild's target (JSON, secrets included: the
// environment, never the arguments).
const awsChildEnv = "SLIPWAY_TLOG_AWS_CHILD"

type awsChildSpec struct {
	Target  awsTarget
	KeyFile string
}

// awsChild is a replica appending to a log in a bucket until it is killed.
func awsChild(spec string) {
	var s awsChildSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l, err := OpenAWS(context.Background(), s.Target.config(), Options{KeyFile: s.KeyFile})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	appendForever(l, 0)
}

// TestAWSReplicaKilled: two replicas append to one log in a bucket (a
// child process and this one); the child is killed with SIGKILL while 16
// of its appends are in flight. The surviving replica goes on: every
// receipt either handed out verifies against the checkpoint after the
// kill, that checkpoint is consistent with the one before, and every entry
// in the bucket hashes to the signed root (an fsck of the whole tree).
func TestAWSReplicaKilled(t *testing.T) {
	t.Parallel()
	target := testAWS(t)
	keyFile := filepath.Join(t.TempDir(), "log.key")
	if _, err := CreateKey(keyFile, "slipway.test/replicas"); err != nil {
		t.Fatal(err)
	}
	spec, err := json.Marshal(awsChildSpec{Target: target, KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), awsChildEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	b := openAWSTest(t, target.config(), keyFile)
	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	var mine []*receipt.Receipt
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				r, err := b.Append(context.Background(), testEntry(t, 500_000_000+g*1_000_000+i, "dist/b", fmt.Sprint(i)))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				mine = append(mine, r)
				mu.Unlock()
			}
		})
	}

	theirs := readReceipts(t, stdout, 48)
	before := latestCheckpoint(t, b)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(theirs) < 48 {
		stop()
		wg.Wait()
		t.Fatalf("the child replica handed out %d receipts before it ended; want 48 (see its stderr above)", len(theirs))
	}
	// The survivor appends on after the kill, integrating what the dead
	// replica had sequenced.
	r, err := b.Append(context.Background(), testEntry(t, 1, "after", "kill"))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	wg.Wait()
	mine = append(mine, r)
	after := latestCheckpoint(t, b)
	if after.Size < before.Size {
		t.Fatalf("the log shrank from %d to %d entries", before.Size, after.Size)
	}
	p, err := b.ConsistencyProof(context.Background(), before.Size, after.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, before.Size, after.Size, p, before.Hash, after.Hash); err != nil {
		t.Fatalf("the checkpoint after the kill (size %d) is not consistent with the one before (size %d): %v", after.Size, before.Size, err)
	}
	seen := map[uint64]bool{}
	for _, r := range append(theirs, mine...) {
		if seen[r.Index] {
			t.Fatalf("two receipts for index %d", r.Index)
		}
		seen[r.Index] = true
		if r.Index >= after.Size {
			t.Fatalf("receipt of entry %d, the log has %d entries after the kill", r.Index, after.Size)
		}
		fresh, err := b.Receipt(context.Background(), r.Index, r.Entry)
		if err != nil {
			t.Fatalf("entry %d after the kill: %v", r.Index, err)
		}
		if err := receipt.Verify(fresh, nil, b.Verifier()); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckEntries(context.Background(), b.EntryBundles(), after.Size, after.Hash); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d receipts from the killed replica, %d from the survivor; tree %d -> %d", len(theirs), len(mine), before.Size, after.Size)
}

func latestCheckpoint(t *testing.T, l *Log) *log.Checkpoint {
	t.Helper()
	raw, err := l.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := log.ParseCheckpoint(raw, l.Origin(), l.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	return cp
}
