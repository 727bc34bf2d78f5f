package sign

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

const (
	testRepo     = "octo-org/app"
	testWorkflow = ".github/workflows/release.yml"
	testSAN      = "https://github.com/" + testRepo + "/" + testWorkflow + "@refs/heads/main"
)

// keylessOptions returns options for keyless signing on "GitHub Actions":
// the job's token endpoint and a private Sigstore, both local.
func keylessOptions(t *testing.T, dir string) (Options, *sigstoretest.Sigstore) {
	t.Helper()
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	env := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims(testRepo, testWorkflow)).Env()
	return Options{
		Sigstore: signing.Config{Keyless: true, FulcioURL: ss.FulcioURL, RekorURL: ss.RekorURL, TSAURL: ss.TSAURL, TLog: true},
		Dir:      dir, Getenv: func(k string) string { return env[k] },
	}, ss
}

func TestKeylessSubject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "app", "keyless stage\n")
	o, ss := keylessOptions(t, dir)
	o.Subject = "app"
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if res.Identity != testSAN {
		t.Errorf("identity = %q", res.Identity)
	}
	out, err := cosignCmd(t, "verify-blob", "--new-bundle-format", "--bundle", filepath.Join(dir, res.Files[0].Bundle()),
		"--trusted-root", ss.WriteTrustedRoot(t), "--certificate-identity", testSAN,
		"--certificate-oidc-issuer", sigstoretest.GitHubIssuer, "--insecure-ignore-sct", file)
	if err != nil {
		t.Fatalf("cosign verify-blob: %v\n%s", err, out)
	}
}

func TestKeylessImageVerifiesWithCosign(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, _ := registry.PushRandomImage(t, addr, "octo/app")
	o, ss := keylessOptions(t, t.TempDir())
	o.Image = tag.String()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	tr := ss.WriteTrustedRoot(t)
	common := []string{"--trusted-root", tr, "--certificate-identity", testSAN, "--certificate-oidc-issuer", sigstoretest.GitHubIssuer,
		"--insecure-ignore-sct", "--allow-http-registry", "--allow-insecure-registry"}
	out, err := cosignCmd(t, append(append([]string{"verify"}, common...), res.Image.Ref)...)
	if err != nil {
		t.Fatalf("cosign verify (signature tag, Rekor bundle, certificate) rejects the image: %v\n%s", err, out)
	}
	if !strings.Contains(out, testSAN) {
		t.Errorf("cosign verify output lacks the identity:\n%s", out)
	}
	out, err = cosignCmd(t, append(append([]string{"verify", "--new-bundle-format"}, common...), res.Image.Ref)...)
	if err != nil {
		t.Fatalf("cosign verify --new-bundle-format rejects the referrer: %v\n%s", err, out)
	}
	wrong := append([]string{"verify"}, common...)
	wrong[4] = strings.Replace(testSAN, "octo-org", "evil", 1)
	if out, err := cosignCmd(t, append(wrong, res.Image.Ref)...); err == nil {
		t.Fatalf("cosign verify accepts another identity:\n%s", out)
	}
}
