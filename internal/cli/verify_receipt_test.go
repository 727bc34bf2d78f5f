package cli

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
)

// TestVerifyManifestReceipts runs slipway verify --manifest --policy on a
// release whose artifacts carry receipts of a real log, with the policy
// requiring them.
func TestVerifyManifestReceipts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := release(t, dir, "")
	manifest := filepath.Join(dir, "dist", "manifest.json")
	m, err := artifact.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}

	l, err := tlog.Open(context.Background(), filepath.Join(t.TempDir(), "log"), tlog.Options{Origin: "slipway.test/cli"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	e := entry.Entry{Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted, Release: "r-1",
		Source: "git+https://example.org/app", Uploader: "ci", Time: time.Now()}
	arts := m.ByRole(artifact.RoleArtifact)
	for _, a := range arts {
		e.Artifacts = append(e.Artifacts, entry.Subject{Name: a.Name, SHA256: a.Digest.Hex()})
	}
	b, err := entry.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Append(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	text := r.Marshal()
	for _, a := range arts {
		name := a.Name + artifact.ReceiptExt
		writeFile(t, filepath.Join(dir, name), string(text))
		m.Add(artifact.NewReceipt(name, digest.SHA256(sha256.Sum256(text)), int64(len(text)), a.Digest))
	}
	if err := m.WriteFile(manifest); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "log.pub"), l.VerifierKey()+"\n")
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "policy.yaml"), string(policy)+"log:\n  verifierKey: log.pub\n  receipts: required\n")

	code, stdout, stderr := runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml")
	if code != 0 || !strings.Contains(stdout, `PASS receipt    a.bin.receipt: log "slipway.test/cli" admitted "src/a.bin"`) {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// Without the receipt of one artifact, the required receipt fails it.
	editManifest(t, dir, func(recs []map[string]any) []map[string]any {
		var out []map[string]any
		for _, r := range recs {
			if r["name"] != "src/old.bin.receipt" {
				out = append(out, r)
			}
		}
		return out
	})
	code, stdout, stderr = runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml")
	if code != 1 || !strings.Contains(stdout+stderr, `FAIL receipt    src/old.bin: the manifest lists no receipt for "src/old.bin"`) {
		t.Fatalf("verify without a receipt: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
