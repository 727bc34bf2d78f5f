package cli

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

func TestSignCommandInActions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := sigstoretest.NewCosignKey(t, "pa55word")
	out := filepath.Join(dir, "github_output")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out,
		"INPUT_SUBJECT": "app.bin", "INPUT_KEY": key.PrivatePath, "INPUT_TLOG": "false",
		"INPUT_COSIGN-PASSWORD": "pa55word",
	}
	code, stdout, stderr := runSign(t, dir, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "::add-mask::pa55word") {
		t.Errorf("the password is not masked:\n%s", stdout)
	}
	if strings.Count(stdout+stderr, "pa55word") != 1 {
		t.Errorf("the password appears outside its mask command:\n%s\n%s", stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	for _, want := range []string{"bundle<<", "app.bin.sigstore.json", "digest<<", "sha256:"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "app.bin.sigstore.json")); err != nil {
		t.Error(err)
	}
}

func TestSignCommandKeylessCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	te := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims("o/r", ".github/workflows/release.yml"))
	code, stdout, stderr := runSign(t, dir, te.Env(), "--subject", "app.bin", "--keyless",
		"--fulcio-url", ss.FulcioURL, "--rekor-url", ss.RekorURL, "--tsa-url", ss.TSAURL)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "bundle=app.bin.sigstore.json") || !strings.Contains(stderr, "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main") {
		t.Errorf("stdout %s\nstderr %s", stdout, stderr)
	}
	if strings.Contains(stdout+stderr, te.RequestToken) {
		t.Error("the request token was printed")
	}

	// Outside a job with id-token permission: exit 2 with the hint.
	code, _, stderr = runSign(t, dir, nil, "--subject", "app.bin", "--keyless", "--fulcio-url", ss.FulcioURL, "--tlog=false")
	if code != 2 || !strings.Contains(stderr, "permissions: id-token: write") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// TestKeyFromSecret: sign and attest take the cosign key's content from
// the cosign-key secret input or from key: env://NAME; every line of it is
// masked, none is printed, and no file of the workspace holds it.
func TestKeyFromSecret(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pa55word")
	keyLines := key.SecretLines()
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"cosign-key input", map[string]string{"INPUT_COSIGN-KEY": string(key.PrivatePEM)}},
		{"COSIGN_KEY secret", map[string]string{"COSIGN_KEY": string(key.PrivatePEM)}},
		{"key env://NAME", map[string]string{"INPUT_KEY": "env://RELEASE_KEY", "RELEASE_KEY": string(key.PrivatePEM)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := attestWorkspace(t)
			env := map[string]string{
				"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"), "RUNNER_ENVIRONMENT": "self-hosted",
				"INPUT_MANIFEST": "dist/manifest.json", "INPUT_TLOG": "false", "INPUT_COSIGN-PASSWORD": "pa55word",
				"INPUT_BUILDER-ID": "https://hpc.example.org/pool",
			}
			maps.Copy(env, tc.env)
			for _, run := range []func(*testing.T, string, map[string]string, ...string) (int, string, string){runSign, runAttest} {
				code, stdout, stderr := run(t, dir, env)
				if code != 0 {
					t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
				}
				for _, l := range keyLines {
					if !strings.Contains(stdout, "::add-mask::"+l+"\n") {
						t.Errorf("key line %q is not masked:\n%s", l, stdout)
					}
					if strings.Count(stdout+stderr, l) != 1 {
						t.Errorf("key line %q appears outside its mask command:\n%s\n%s", l, stdout, stderr)
					}
				}
			}
			for _, f := range []string{"dist/app.sigstore.json", "dist/provenance.intoto.sigstore.json"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("not written: %v", err)
				}
			}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err == nil && bytes.Contains(b, []byte(keyLines[0])) {
					t.Errorf("%s holds the private key", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
