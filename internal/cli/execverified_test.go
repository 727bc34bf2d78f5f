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

// TestExecVerifiedRefuses: slipway exec-verified of a swapped file (each
// mode), or of a file in place that another user could write, exits 65,
// says why on stderr (both digests for a swap) and writes the refusal to
// --status; nothing runs (the command would create a file).
func TestExecVerifiedRefuses(t *testing.T) {
	t.Parallel()
	admitted := digest.SHA256(sha256.Sum256([]byte("admitted"))).String()
	swapped := digest.SHA256(sha256.Sum256([]byte("swapped"))).String()
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
		flags   []string
		check   string
		want    []string
	}{
		{"swapped, copy", "swapped", 0o644, []string{"--copy", "job"}, "digest", []string{admitted, swapped}},
		{"swapped, in place", "swapped", 0o644, []string{"--in-place", "job", "--staging-root", "."}, "digest", []string{admitted, swapped}},
		{"swapped, in memory", "swapped", 0o644, nil, "digest", []string{admitted, swapped}},
		{"group-writable, in place", "admitted", 0o664, []string{"--in-place", "job"}, "staging", []string{"app.bin\" is writable by its group or others (mode 0664)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			app := filepath.Join(dir, "app.bin")
			if err := os.WriteFile(app, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(app, tc.mode); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"exec-verified", "--digest", admitted, "--file", "app.bin", "--status", "job-12.status"}, tc.flags...)
			code, stdout, stderr := runCLI(t, dir, map[string]string{"SLURM_JOB_ID": "12"}, append(args, "--", "touch", filepath.Join(dir, "ran"))...)
			if code != 65 {
				t.Fatalf("exit code %d, want 65; stderr:\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) || stdout != "" {
					t.Errorf("stderr does not say %q (or stdout is not empty):\n%s%s", w, stderr, stdout)
				}
			}
			b, err := os.ReadFile(filepath.Join(dir, "job-12.status"))
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]any
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			if st["verified"] != false || st["check"] != tc.check || st["jobId"] != "12" || st["exitCode"] != float64(65) {
				t.Errorf("status file %s, want check %q", b, tc.check)
			}
			for _, p := range []string{"ran", "job"} {
				if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
					t.Errorf("%s exists after a refusal", p)
				}
			}
		})
	}
}
