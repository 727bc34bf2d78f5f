package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// TestRunnerDoctor runs slipway runner doctor against the machine's real Slurm cluster, slurmrestd and an
// in-process slipway serve: a healthy headnode exits 0 with an ok: line per check (the working directory seen
// by a real job on the node); each broken setting exits 1 with exactly one problem: line naming it.
func TestRunnerDoctor(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "release.pub"), testPublicKeyPEM(t))
	const policy = "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\n"
	writeFile(t, filepath.Join(dir, "policy.yaml"), policy)
	url := startServe(t, dir, filepath.Join(dir, "data"), filepath.Join(dir, "policy.yaml"))
	_, otherLogKey, err := note.GenerateKey(rand.Reader, "other.example/log")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "other-log.yaml"), policy+"log:\n  verifierKey: "+otherLogKey+"\n")
	writeFile(t, filepath.Join(dir, "broken.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [oops\n")
	writeFile(t, filepath.Join(dir, "a-file"), "not a directory\n")
	tok := c.Token(t, 5*time.Minute)
	jwt := map[string]string{"SLURM_JWT": tok}

	healthy := []string{"--partition", c.Partition, "--backend", "rest", "--rest-url", c.RESTURL, "--rest-user", c.User}
	t.Run("healthy", func(t *testing.T) {
		t.Parallel()
		args := append([]string{"runner", "doctor", "--server", url, "--policy", "policy.yaml", "--workdir", c.Shared}, healthy...)
		code, stdout, stderr := runCLI(t, dir, jwt, args...)
		if code != 0 || strings.Contains(stdout, "problem:") {
			t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
		}
		for _, want := range []string{"ok: slurm: 22.", "ok: munge:", "ok: slurmctld:", "ok: partition: " + c.Partition,
			"ok: slurmrestd: " + c.RESTURL + " answers with OpenAPI v0.0.38", "ok: server: " + url + " is ready; log key ",
			"ok: policy:", "ok: workdir: " + c.Shared + " is writable here and the same directory on node", "rest backend)", "ok: tmp:"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("no %q line in:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout+stderr, tok) {
			t.Error("the output holds the token")
		}
		if left, _ := filepath.Glob(filepath.Join(c.Shared, ".slipway-doctor-*")); len(left) > 0 {
			t.Errorf("left behind in the working directory: %v", left)
		}
	})

	// The cli backend: the test job goes through sbatch (above it went through slurmrestd).
	t.Run("healthy-cli", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(c.Shared, "cli") // apart from the healthy case's, which runs at the same time
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, dir, nil, "runner", "doctor", "--partition", c.Partition, "--workdir", work)
		if code != 0 || !strings.Contains(stdout, "ok: workdir: "+work+" is writable here and the same directory on node") ||
			!strings.Contains(stdout, "cli backend") {
			t.Fatalf("exit %d, want 0 with the workdir seen from the node\n%s\n%s", code, stdout, stderr)
		}
	})

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unreachable-rest", jwt, []string{"--rest-url", "http://127.0.0.1:1"}, "slurmrestd does not answer at http://127.0.0.1:1"},
		{"rest-url-not-http", jwt, []string{"--rest-url", "ftp://127.0.0.1:6820"}, `the slurmrestd URL "ftp://127.0.0.1:6820" is not an http(s) URL`},
		{"bad-token", map[string]string{"SLURM_JWT": tok + "x"}, []string{"--rest-url", c.RESTURL}, "slurmctld rejected it"},
		{"unknown-partition", nil, []string{"--partition", "slipway-no-such-partition"}, `partition "slipway-no-such-partition" does not exist`},
		{"missing-workdir", nil, []string{"--workdir", filepath.Join(c.Shared, "missing")}, "does not exist; fix: create it on the shared filesystem"},
		{"workdir-a-file", nil, []string{"--workdir", "a-file"}, "is not a directory"},
		{"broken-policy", nil, []string{"--policy", "broken.yaml"}, "broken.yaml:"},
		{"policy-other-log", nil, []string{"--server", url, "--policy", "other-log.yaml"}, "is not the control plane's log key"},
		{"unreachable-server", nil, []string{"--server", "http://127.0.0.1:1"}, "the control plane does not answer at http://127.0.0.1:1"},
		{"plain-http-server", nil, []string{"--server", "http://slipway.example.org"}, "is plain http to another host"},
		{"not-a-server", nil, []string{"--server", c.RESTURL}, "is not ready (GET /readyz: 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, dir, tc.env, append([]string{"runner", "doctor"}, tc.args...)...)
			var problems []string
			for _, line := range strings.Split(stdout, "\n") {
				if strings.HasPrefix(line, "problem: ") {
					problems = append(problems, line)
				}
			}
			if code != 1 || len(problems) != 1 || !strings.Contains(problems[0], tc.want) || !strings.Contains(problems[0], "; fix: ") {
				t.Fatalf("exit %d, want 1 with one problem line naming %q\n%s\n%s", code, tc.want, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, tok) {
				t.Error("the output holds the token")
			}
		})
	}

	t.Run("bad-backend", func(t *testing.T) {
		t.Parallel()
		if code, stdout, stderr := runCLI(t, dir, nil, "runner", "doctor", "--backend", "ssh"); code != 2 || !strings.Contains(stderr, `backend "ssh": want cli or rest`) {
			t.Fatalf("exit %d, want 2 naming the backend\n%s\n%s", code, stdout, stderr)
		}
	})
}

// testPublicKeyPEM returns a fresh ECDSA P-256 public key in PEM, as trust policies name them.
func testPublicKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestRunnerSystemd prints the units as the golden files of internal/unitfile hold them, and refuses a value
// systemd would read as more than one path.
func TestRunnerSystemd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for unit, golden := range map[string]string{"serve": "serve.service", "runner": "runner.service"} {
		code, stdout, stderr := runCLI(t, dir, nil, "runner", "systemd", "--unit", unit)
		if want := mustRead(t, filepath.Join("..", "unitfile", "testdata", golden)); code != 0 || stdout != string(want) {
			t.Errorf("runner systemd --unit %s: exit %d\n%s\n%s", unit, code, stdout, stderr)
		}
	}
	code, stdout, stderr := runCLI(t, dir, nil, "runner", "systemd", "--unit", "runner", "--workdir", "/shared/a b")
	if code != 2 || stdout != "" || !strings.Contains(stderr, `workdir "/shared/a b"`) {
		t.Errorf("a workdir with a space: exit %d, want 2 naming it\n%s\n%s", code, stdout, stderr)
	}
}
