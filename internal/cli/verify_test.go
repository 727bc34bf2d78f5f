package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// signedWorkspace signs app.bin with "slipway sign" and writes a policy
// trusting the key: what "slipway verify" sees after the sign stage.
func signedWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("verify me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := sigstoretest.NewCosignKey(t, "pw")
	if code, stdout, stderr := runCLI(t, dir, map[string]string{"COSIGN_PASSWORD": "pw"},
		"sign", "--subject", "app.bin", "--key", key.PrivatePath, "--tlog=false"); code != 0 {
		t.Fatalf("slipway sign: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), key.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	dir := signedWorkspace(t)

	code, stdout, stderr := runCLI(t, dir, nil, "verify", "--subject", "app.bin", "--policy", "policy.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`PASS signature  app.bin.sigstore.json: sigstore bundle signed by key SHA256:`, `(policy key "release")`,
		"PASS digest     app.bin.sigstore.json: the signed message digest is the subject's sha256:", "verified=true\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}

	code, stdout, stderr = runCLI(t, dir, nil, "verify", "--subject", "app.bin", "--policy", "policy.yaml", "--json", "--report", "out/report.json")
	if code != 0 {
		t.Fatalf("--json: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var r struct {
		Verified bool
		Subjects []struct {
			Name   string
			Checks []struct{ Check, Status, Signer string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("--json stdout is not only the JSON report: %v\n%s", err, stdout)
	}
	if !r.Verified || len(r.Subjects) != 1 || r.Subjects[0].Name != "app.bin" || r.Subjects[0].Checks[0].Signer != "release" {
		t.Errorf("report = %+v", r)
	}
	written, err := os.ReadFile(filepath.Join(dir, "out", "report.json"))
	if err != nil || !bytes.Equal(written, []byte(stdout)) {
		t.Errorf("report file = %q, %v; want the printed report", written, err)
	}
}

func TestVerifyCommandInActions(t *testing.T) {
	t.Parallel()
	dir := signedWorkspace(t)
	out := filepath.Join(dir, "github_output")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out,
		"INPUT_SUBJECT": "app.bin", "INPUT_POLICY": "policy.yaml", "INPUT_JSON": "true", "INPUT_REPORT": "report.json"}
	if code, stdout, stderr := runCLI(t, dir, env, "verify"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"verified<<", "true", "report<<", "report.json"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
}

func TestVerifyCommandFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		args    []string
		code    int
		stdout  string
		stderr  string
	}{
		{name: "changed subject", code: 1,
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("changed\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args:   []string{"--subject", "app.bin", "--policy", "policy.yaml"},
			stdout: "FAIL digest     app.bin.sigstore.json: the bundle signs sha256:",
			stderr: "slipway verify: 1 check(s) failed; the first: FAIL digest"},
		{name: "no policy", code: 2, args: []string{"--subject", "app.bin"}, stderr: `no trust policy: give policy`},
		{name: "missing policy file", code: 2, args: []string{"--subject", "app.bin", "--policy", "nope.yaml"},
			stderr: `nope.yaml: reading the policy`},
		{name: "bad policy", code: 2,
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeyz: []\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args: []string{"--subject", "app.bin", "--policy", "bad.yaml"}, stderr: `bad.yaml:3:1: unknown field "keyz"`},
		{name: "missing subject", code: 2, args: []string{"--subject", "nope.bin", "--policy", "policy.yaml"},
			stderr: `the subject "nope.bin" does not exist`},
		{name: "subject and manifest", code: 2, args: []string{"--subject", "app.bin", "--manifest", "m.json", "--policy", "policy.yaml"},
			stderr: "more than one of subject, image and manifest is set"},
		{name: "bad image reference", code: 2, args: []string{"--image", "app:v1", "--policy", "policy.yaml"},
			stderr: `reference "app:v1" names no registry`},
		{name: "nothing to verify", code: 2, args: []string{"--policy", "policy.yaml"}, stderr: "nothing to verify"},
		{name: "missing bundle", code: 1, args: []string{"--subject", "app.bin", "--bundles", "nope.sigstore.json", "--policy", "policy.yaml"},
			stdout: "FAIL bundle     nope.sigstore.json: cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := signedWorkspace(t)
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			code, stdout, stderr := runCLI(t, dir, nil, append([]string{"verify"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q\nstderr %q\nwant %q and %q", stdout, stderr, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestVerifyCommandImage signs an image in a real registry with "slipway
// sign" and verifies it with "slipway verify --image".
func TestVerifyCommandImage(t *testing.T) {
	t.Parallel()
	tag, _ := registry.PushRandomImage(t, registry.Start(t), "team/app")
	ref := tag.String()
	dir := signedWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	if code, stdout, stderr := runCLI(t, dir, map[string]string{"COSIGN_PASSWORD": "pw"},
		"sign", "--image", ref, "--key", key.PrivatePath, "--tlog=false"); code != 0 {
		t.Fatalf("slipway sign --image: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), key.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, dir, nil, "verify", "--image", ref, "--policy", "policy.yaml")
	if code != 0 || !strings.Contains(stdout, "PASS signature  referrer sha256:") || !strings.Contains(stdout, "verified=true") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
