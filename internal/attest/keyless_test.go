package attest

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// reusableWorkflow is the job's workflow: a reusable workflow called by the
// repository's own, so that the builder ID (job_workflow_ref) differs from
// the top-level workflow (workflow_ref).
const reusableWorkflow = "slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0"

// keyless is a GitHub-hosted job signing keyless with a private Sigstore
// (Fulcio, Rekor, TSA): its token endpoint, its environment, the builder
// identified from the token's claims as the CLI does, and the signer.
type keyless struct {
	ss      *sigstoretest.Sigstore
	builder *provenance.Builder
	signer  *signing.Signer
}

func newKeyless(t *testing.T) *keyless {
	t.Helper()
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	claims := sigstoretest.GitHubClaims("octo-org/app", ".github/workflows/release.yml")
	claims["job_workflow_ref"] = reusableWorkflow
	env := sigstoretest.StartTokenEndpoint(t, iss, claims).Env()
	for k, v := range map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo-org/app",
		"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1", "RUNNER_ENVIRONMENT": "github-hosted",
		"GITHUB_WORKFLOW_REF": "octo-org/app/.github/workflows/release.yml@refs/heads/main",
	} {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	gh := oidc.GitHub{Getenv: getenv}
	ctx := context.Background()
	tok, err := gh.Token(ctx, oidc.SigstoreAudience)
	if err != nil {
		t.Fatal(err)
	}
	c, err := oidc.ParseGitHubClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: getenv, Claims: c})
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.New(ctx, signing.Options{
		FulcioURL: ss.FulcioURL, RekorURL: ss.RekorURL, TSAURL: ss.TSAURL, IDToken: gh.Source(oidc.SigstoreAudience),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &keyless{ss: ss, builder: b, signer: s}
}

// checkAgainstCertificate proves that the provenance claims no more than
// Fulcio certified: its builder ID is the certificate's identity and its
// invocation the certificate's run.
func checkAgainstCertificate(t *testing.T, path string) {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := b.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		t.Fatalf("bundle has no certificate: %v", err)
	}
	cert := vc.Certificate()
	ext, err := certificate.ParseExtensions(cert.Extensions)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := b.Envelope()
	payload, _ := env.RawEnvelope().DecodeB64Payload()
	var st struct {
		Predicate struct {
			RunDetails struct {
				Builder  struct{ ID string }
				Metadata struct{ InvocationID string }
			}
		}
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	rd := st.Predicate.RunDetails
	if len(cert.URIs) != 1 || rd.Builder.ID != cert.URIs[0].String() || rd.Builder.ID != ext.BuildSignerURI {
		t.Errorf("builder.id %q, certificate identity %v, Build Signer URI %q", rd.Builder.ID, cert.URIs, ext.BuildSignerURI)
	}
	if rd.Metadata.InvocationID != ext.RunInvocationURI {
		t.Errorf("invocationId %q, certificate's Run Invocation URI %q", rd.Metadata.InvocationID, ext.RunInvocationURI)
	}
}

// TestKeylessProvenanceVerifiesWithCosign signs a manifest's provenance
// keyless (Fulcio certificate, Rekor entry, RFC 3161 timestamp) and has the
// real cosign verify it against the private Sigstore's trusted root and the
// job's identity.
func TestKeylessProvenanceVerifiesWithCosign(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	k := newKeyless(t)
	w := newWorkspace(t)
	res, err := Run(context.Background(), Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: k.builder, Signer: k.signer})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.dir, filepath.FromSlash(res.Attestations[0].BundlePath))
	checkAgainstCertificate(t, path)
	san := "https://github.com/" + reusableWorkflow
	tr := k.ss.WriteTrustedRoot(t)
	for _, file := range []string{"dist/app", "dist/lib.so"} {
		out, err := c.run(t, "verify-blob-attestation", "--new-bundle-format", "--bundle", path, "--trusted-root", tr,
			"--certificate-identity", san, "--certificate-oidc-issuer", sigstoretest.GitHubIssuer, "--insecure-ignore-sct",
			"--type", "slsaprovenance1", filepath.Join(w.dir, file))
		if err != nil {
			t.Errorf("cosign verify-blob-attestation %s: %v\n%s", file, err, out)
		}
	}
	out, err := c.run(t, "verify-blob-attestation", "--new-bundle-format", "--bundle", path, "--trusted-root", tr,
		"--certificate-identity", strings.Replace(san, "slipway/actions", "evil/actions", 1), "--certificate-oidc-issuer", sigstoretest.GitHubIssuer,
		"--insecure-ignore-sct", "--type", "slsaprovenance1", filepath.Join(w.dir, "dist", "app"))
	if err == nil {
		t.Errorf("cosign accepted another identity:\n%s", out)
	}
}

// TestKeylessImageVerifiesWithCosign attaches keyless provenance to an
// image: the .att layer carries the certificate and the Rekor entry in
// cosign's annotations (converted from the bundle), the referrer the bundle.
func TestKeylessImageVerifiesWithCosign(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	k := newKeyless(t)
	tag, hex := pushRandomImage(t)
	w := newWorkspace(t)
	res, err := Run(context.Background(), Options{Dir: w.dir, Image: tag, Manifest: "dist/manifest.json", Bundle: "image.intoto.sigstore.json", Kind: KindProvenance, Builder: k.builder, Signer: k.signer})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstCertificate(t, filepath.Join(w.dir, res.Attestations[0].BundlePath))
	byDigest := strings.TrimSuffix(tag, ":v1") + "@sha256:" + hex
	common := []string{"--certificate-identity", "https://github.com/" + reusableWorkflow,
		"--certificate-oidc-issuer", sigstoretest.GitHubIssuer, "--insecure-ignore-sct", "--type", "slsaprovenance1"}
	// cosign v2.6.2 reads a trusted root only with --new-bundle-format; the
	// legacy format is verified against the same Fulcio CA and Rekor key
	// given the older way, through SIGSTORE_ROOT_FILE and
	// SIGSTORE_REKOR_PUBLIC_KEY.
	legacyEnv := legacyTrust(t, k.ss)
	for _, format := range [][]string{nil, {"--new-bundle-format", "--trusted-root", k.ss.WriteTrustedRoot(t)}} {
		args := append(append(append([]string{"verify-attestation"}, format...), common...), byDigest)
		out, err := c.runEnv(t, legacyEnv, args...)
		if err != nil {
			t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
			continue
		}
		if got := printedPredicateTypes(t, out); len(got) != 1 || got[0] != provenance.PredicateType {
			t.Errorf("cosign %s printed statements of types %q", strings.Join(args, " "), got)
		}
	}
}

// legacyTrust writes the private Sigstore's Fulcio certificates and Rekor
// key as PEM files and returns the variables that point cosign at them.
func legacyTrust(t *testing.T, ss *sigstoretest.Sigstore) []string {
	t.Helper()
	tr := ss.TrustedRoot(t)
	var certs []byte
	for _, ca := range tr.FulcioCertificateAuthorities() {
		fca := ca.(*root.FulcioCertificateAuthority)
		for _, c := range append(slices.Clone(fca.Intermediates), fca.Root) {
			certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
	}
	var rekorPEM []byte
	for _, l := range tr.RekorLogs() {
		var err error
		if rekorPEM, err = cryptoutils.MarshalPublicKeyToPEM(l.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	rootFile, rekorFile := filepath.Join(dir, "fulcio.pem"), filepath.Join(dir, "rekor.pub")
	if err := os.WriteFile(rootFile, certs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rekorFile, rekorPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"SIGSTORE_ROOT_FILE=" + rootFile, "SIGSTORE_REKOR_PUBLIC_KEY=" + rekorFile}
}
