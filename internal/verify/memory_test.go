package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/verify"
)

const (
	memoryDirEnv    = "SLIPWAY_BUNDLE_MEMORY_DIR"
	memoryLimitsEnv = "SLIPWAY_BUNDLE_MEMORY_LIMITS"
	memoryBundles   = 10
	bigPredicate    = "https://example.com/big/v1"
)

// BenchmarkBundleMemory measures the peak memory (maximum resident set
// size, from getrusage) of a process that verifies one subject with ten
// bundles of about 60 MB each, an attestation with a large predicate: with
// the default bundle limits, and with no limits (as verify was before
// them). Each run is a child process (TestBundleMemoryChild), so that its
// peak is its own. Run it with
//
//	go test ./internal/verify -run '^$' -bench BundleMemory -benchtime 1x
func BenchmarkBundleMemory(b *testing.B) {
	dir := b.TempDir()
	policytest.WriteFile(b, dir, "subject", []byte("the subject"))
	sum := sha256.Sum256([]byte("the subject"))
	kp, pub := policytest.NewKeypair(b)
	policytest.WriteFile(b, dir, "release.pub", pub)
	policytest.WriteFile(b, dir, "policy.yaml", []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nallowedPredicateTypes: ["+bigPredicate+"]\n"))
	st := policytest.Statement(b, bigPredicate, map[string]string{"blob": strings.Repeat("A", 45<<20)}, policytest.Subject{Name: "subject", SHA256: hex.EncodeToString(sum[:])})
	bundle := policytest.Bundle(b, policytest.DSSE(st), kp, sign.BundleOptions{})
	for i := range memoryBundles {
		policytest.WriteFile(b, dir, fmt.Sprintf("b%d.intoto.json", i), bundle)
	}
	b.Logf("%d bundles of %d MiB each", memoryBundles, len(bundle)>>20)
	for _, limits := range []string{"default", "none"} {
		b.Run("limits="+limits, func(b *testing.B) {
			var peak int64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestBundleMemoryChild$", "-test.v")
				cmd.Env = append(os.Environ(), memoryDirEnv+"="+dir, memoryLimitsEnv+"="+limits)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
				b.Logf("limits=%s: %s", limits, strings.TrimSpace(grepLine(string(out), "checks:")))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
		})
	}
}

func grepLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if i := strings.Index(l, prefix); i >= 0 {
			return l[i:]
		}
	}
	return ""
}

// TestBundleMemoryChild is BenchmarkBundleMemory's child process; it does
// nothing in a normal test run.
func TestBundleMemoryChild(t *testing.T) {
	dir := os.Getenv(memoryDirEnv)
	if dir == "" {
		t.Skip("run by BenchmarkBundleMemory")
	}
	p, err := policy.Load(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var opts []verify.Option
	if os.Getenv(memoryLimitsEnv) == "none" {
		opts = append(opts, verify.WithBundleLimits(math.MaxInt64, math.MaxInt64))
	}
	s := verify.Subject{Name: "subject", Path: filepath.Join(dir, "subject")}
	for i := range memoryBundles {
		s.Bundles = append(s.Bundles, filepath.Join(dir, fmt.Sprintf("b%d.intoto.json", i)))
	}
	r, err := verify.New(p, opts...).Verify(context.Background(), []verify.Subject{s})
	if err != nil {
		t.Fatal(err)
	}
	passed, refused := 0, 0
	for _, c := range r.Subjects[0].Checks {
		switch {
		case c.Check == verify.CheckSignature && c.Status == verify.Pass:
			passed++
		case c.Check == verify.CheckBundle && c.Status == verify.Fail:
			refused++
		}
	}
	fmt.Printf("checks: %d bundles verified, %d refused by the limits\n", passed, refused)
}
