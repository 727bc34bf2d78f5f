package cli

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
)

// TestExecVerifiedRefuses: slipway exec-verified of a swapped file exits
// 65, names both digests on stderr and writes the refusal to --status;
// nothing runs (the command would create a file).
func TestExecVerifiedRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("swapped"), 0o644); err != nil {
		t.Fatal(err)
	}
	admitted := digest.SHA256(sha256.Sum256([]byte("admitted"))).String()
	staged := digest.SHA256(sha256.Sum256([]byte("swapped"))).String()
	code, stdout, stderr := runCLI(t, dir, map[string]string{"SLURM_JOB_ID": "12"}, "exec-verified", "--digest", admitted,
		"--file", "app.bin", "--copy", "job", "--status", "job-12.status", "--", "touch", filepath.Join(dir, "ran"))
	if code != 65 {
		t.Fatalf("exit code %d, want 65; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, admitted) || !strings.Contains(stderr, staged) || stdout != "" {
		t.Errorf("stderr does not name both digests (or stdout is not empty):\n%s%s", stderr, stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "job-12.status"))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st["verified"] != false || st["check"] != "digest" || st["jobId"] != "12" || st["exitCode"] != float64(65) {
		t.Errorf("status file %s", b)
	}
	for _, p := range []string{"ran", "job"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a refusal", p)
		}
	}
}
