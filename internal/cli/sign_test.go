package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

func runSign(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Env{
		Args: append([]string{"sign"}, args...), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return dir, nil },
	})
	return code, stdout.String(), stderr.String()
}

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
