package signing

import (
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

const (
	testRepo     = "octo-org/app"
	testWorkflow = ".github/workflows/release.yml"
	testSAN      = "https://github.com/" + testRepo + "/" + testWorkflow + "@refs/heads/main"
)

// keylessEnv starts a local Sigstore and a GitHub token endpoint whose
// tokens it trusts.
func keylessEnv(t *testing.T) (*sigstoretest.Sigstore, *sigstoretest.TokenEndpoint) {
	t.Helper()
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	return sigstoretest.Start(t, iss), sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims(testRepo, testWorkflow))
}

func keylessSigner(t *testing.T, ss *sigstoretest.Sigstore, te *sigstoretest.TokenEndpoint, tlog, tsa bool) *Signer {
	t.Helper()
	env := te.Env()
	o := Options{
		IDToken:   oidc.GitHub{Getenv: func(k string) string { return env[k] }}.Source(oidc.SigstoreAudience),
		FulcioURL: ss.FulcioURL,
	}
	if tlog {
		o.RekorURL = ss.RekorURL
	}
	if tsa {
		o.TSAURL = ss.TSAURL
	}
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return s
}

func identityPolicy(t *testing.T, san string) verify.PolicyOption {
	t.Helper()
	id, err := verify.NewShortCertificateIdentity(sigstoretest.GitHubIssuer, "", san, "")
	if err != nil {
		t.Fatal(err)
	}
	return verify.WithCertificateIdentity(id)
}

func TestKeylessGitHub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tlog, tsa bool
		vopts     []verify.VerifierOption
	}{
		{"rekor and tsa", true, true, []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithSignedTimestamps(1)}},
		{"rekor only", true, false, []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithIntegratedTimestamps(1)}},
		{"air-gapped: tsa, no tlog", false, true, []verify.VerifierOption{verify.WithSignedTimestamps(1)}},
		{"no services but fulcio", false, false, []verify.VerifierOption{verify.WithCurrentTime()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ss, te := keylessEnv(t)
			s := keylessSigner(t, ss, te, tc.tlog, tc.tsa)
			d := digest.SHA256(sha256.Sum256([]byte("keyless artifact")))
			b, err := s.SignDigest(context.Background(), d)
			if err != nil {
				t.Fatalf("SignDigest() error = %v", err)
			}
			if got := s.Identity(); got != testSAN {
				t.Errorf("Identity() = %q, want %q", got, testSAN)
			}
			sev, err := verify.NewVerifier(ss.TrustedRoot(t), tc.vopts...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d[:]), identityPolicy(t, testSAN)))
			if err != nil {
				t.Fatalf("sigstore-go rejects the keyless bundle: %v", err)
			}
			if res.Signature.Certificate.SourceRepositoryURI != "https://github.com/"+testRepo ||
				res.Signature.Certificate.BuildSignerURI != testSAN {
				t.Errorf("certificate summary = %+v", res.Signature.Certificate)
			}
			if _, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d[:]),
				identityPolicy(t, "https://github.com/evil/app/"+testWorkflow+"@refs/heads/main"))); err == nil {
				t.Error("sigstore-go accepts the bundle for another identity")
			}

			// A second signature reuses the certificate.
			if _, err := s.SignDSSE(context.Background(), "application/vnd.in-toto+json", []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"`+d.Hex()+`"}}],"predicateType":"x","predicate":{}}`)); err != nil {
				t.Fatalf("SignDSSE() error = %v", err)
			}
			if n := ss.Certificates.Load(); n != 1 {
				t.Errorf("Fulcio issued %d certificates, want 1", n)
			}
			if n := te.Requests.Load(); n != 1 {
				t.Errorf("the token endpoint was asked %d times, want 1", n)
			}
			wantEntries := map[bool]int64{true: 2, false: 0}[tc.tlog]
			if n := ss.Entries.Load(); n != wantEntries {
				t.Errorf("Rekor has %d entries, want %d", n, wantEntries)
			}
		})
	}
}

// TestKeylessCosignVerifyBlob: the real cosign CLI accepts a keyless bundle
// against the local Sigstore's trusted root and the GitHub identity.
func TestKeylessCosignVerifyBlob(t *testing.T) {
	t.Parallel()
	cosignBin := tools.Require(t, "cosign")
	ss, te := keylessEnv(t)
	s := keylessSigner(t, ss, te, true, true)
	dir := t.TempDir()
	file, bundlePath := signFile(t, s, dir, "app", "keyless via cosign\n")
	tr := ss.WriteTrustedRoot(t)
	run := func(identity string) (string, error) {
		cmd := exec.Command(cosignBin, "verify-blob", "--new-bundle-format", "--bundle", bundlePath, "--trusted-root", tr,
			"--certificate-identity", identity, "--certificate-oidc-issuer", sigstoretest.GitHubIssuer,
			"--certificate-github-workflow-repository", testRepo, "--insecure-ignore-sct", file)
		cmd.Env = append(os.Environ(), "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(testSAN); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob rejects the keyless bundle: %v\n%s", err, out)
	}
	if out, err := run(strings.Replace(testSAN, "octo-org", "evil", 1)); err == nil {
		t.Fatalf("cosign verify-blob accepts another identity:\n%s", out)
	}
}

func TestKeylessFulcioRejectsUntrustedToken(t *testing.T) {
	t.Parallel()
	ss, _ := keylessEnv(t)
	// Tokens from an issuer Fulcio does not trust.
	rogue := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	te := sigstoretest.StartTokenEndpoint(t, rogue, sigstoretest.GitHubClaims(testRepo, testWorkflow))
	s := keylessSigner(t, ss, te, false, false)
	_, err := s.SignDigest(context.Background(), digest.SHA256(sha256.Sum256(nil)))
	if err == nil || !strings.Contains(err.Error(), "Fulcio") {
		t.Fatalf("SignDigest() error = %v, want a Fulcio error", err)
	}
	if strings.Contains(err.Error(), te.RequestToken) {
		t.Errorf("error leaks the request token: %v", err)
	}
}
