package verify_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
	"github.com/slipway/actions/internal/verify"
)

// TestStagesOutput verifies what Slipway's own sign and attest stages write
// for a build manifest: keyless Sigstore bundles (from a local Fulcio,
// Rekor and TSA over HTTP), an OpenPGP signature, SLSA provenance of a
// configured (HPC-style) builder, and an SBOM attested by digest reference.
func TestStagesOutput(t *testing.T) {
	t.Parallel()
	gpg := tools.Require(t, "gpg")
	ctx := context.Background()
	dir := t.TempDir()
	const (
		repo      = "octo-org/app"
		workflow  = ".github/workflows/release.yml"
		san       = "https://github.com/" + repo + "/" + workflow + "@refs/heads/main"
		builderID = "https://hpc.example.org/runners/headnode-pool"
	)

	content := make([]byte, 1<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	policytest.WriteFile(t, dir, "dist/app.tar.gz", content)
	sbomDoc := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}` + "\n")
	policytest.WriteFile(t, dir, "dist/app.cdx.json", sbomDoc)
	d, n, err := digest.File(filepath.Join(dir, "dist/app.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sd, sn, _ := digest.File(filepath.Join(dir, "dist/app.cdx.json"))
	m := artifact.NewManifest()
	now := time.Now().UTC()
	m.Build = &artifact.BuildInfo{Command: "make dist", Repository: "git+https://github.com/" + repo, Ref: "refs/heads/main",
		Commit: "0123456789abcdef0123456789abcdef01234567", StartedOn: now.Add(-time.Minute), FinishedOn: now}
	m.Add(artifact.Record{Name: "dist/app.tar.gz", Path: "dist/app.tar.gz", Digest: d, Size: n, MediaType: "application/gzip", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "dist/app.cdx.json", Path: "dist/app.cdx.json", Digest: sd, Size: sn, MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: d})
	manifest := filepath.Join(dir, "manifest.json")
	if err := m.WriteFile(manifest); err != nil {
		t.Fatal(err)
	}

	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	env := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims(repo, workflow)).Env()
	key := gpgtest.NewKey(t, "ed25519", "")
	if _, err := sign.Run(ctx, sign.Options{
		Manifest: "manifest.json", Dir: dir, Getenv: func(k string) string { return env[k] },
		Sigstore: signing.Config{Keyless: true, FulcioURL: ss.FulcioURL, RekorURL: ss.RekorURL, TSAURL: ss.TSAURL, TLog: true},
		GPGKey:   string(key.Armored),
	}); err != nil {
		t.Fatalf("sign.Run() = %v", err)
	}

	signer, err := signing.New(ctx, signing.Options{
		FulcioURL: ss.FulcioURL, RekorURL: ss.RekorURL, TSAURL: ss.TSAURL,
		IDToken: func(context.Context) (string, error) {
			claims := sigstoretest.GitHubClaims(repo, workflow)
			claims["aud"] = "sigstore"
			return iss.Token(claims)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	builder, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: func(string) string { return "" }, ConfiguredID: builderID})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []attest.Kind{attest.KindProvenance, attest.KindCycloneDX} {
		if _, err := attest.Run(ctx, attest.Options{Dir: dir, Manifest: "manifest.json", Kind: kind, Builder: builder, Signer: signer, SBOMInlineLimit: 16}); err != nil {
			t.Fatalf("attest.Run(%s) = %v", kind, err)
		}
	}

	pub := runTool(t, dir, nil, gpg, "--homedir", key.Home, "--batch", "--armor", "--export", key.Email)
	trustedRoot, err := ss.TrustedRoot(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	pdir := t.TempDir()
	policytest.WriteFile(t, pdir, "maintainer.asc", []byte(pub))
	policytest.WriteFile(t, pdir, "trusted_root.json", trustedRoot)
	path := policytest.WriteFile(t, pdir, "policy.yaml", []byte(`apiVersion: slipway.dev/v1
kind: TrustPolicy
identities:
  - name: release
    issuer: `+sigstoretest.GitHubIssuer+`
    subject: `+san+`
gpgKeys:
  - name: maintainer
    path: maintainer.asc
builders: [`+builderID+`]
sourceRepositories: [git+https://github.com/`+repo+`]
requiredPredicateTypes: [`+policy.SLSAProvenanceV1+`, `+policy.CycloneDX+`]
maxAge: 1h
trustedRoot: trusted_root.json
tlog: required
thresholds:
  observerTimestamps: 2
`))
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err = artifact.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.New(p).VerifyManifest(ctx, m, dir)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, r.Subjects[0], true,
		"PASS digest     dist/app.tar.gz: content is the manifest's "+d.String(),
		`PASS signature  app.tar.gz.sigstore.json: sigstore bundle signed by "`+san+`"`,
		"PASS tlog       app.tar.gz.sigstore.json", "PASS timestamp  app.tar.gz.sigstore.json",
		`PASS signature  app.tar.gz.asc: OpenPGP signature of the subject's content by key`,
		`PASS builder    provenance.intoto.sigstore.json: provenance builder "`+builderID+`" is allowed`,
		`PASS source     provenance.intoto.sigstore.json: provenance source "git+https://github.com/`+repo+`" (externalParameters.repository) is allowed`,
		`PASS sbom       app.cdx.json.intoto.sigstore.json: SBOM attestation binds the subject's `+d.String()[:7]+d.Hex()+` to SBOM "dist/app.cdx.json", whose content is the attested sha256:`+sd.Hex(),
		`PASS predicate  dist/app.tar.gz: required predicate type "https://cyclonedx.org/bom" is attested (app.cdx.json.intoto.sigstore.json)`,
		"PASS age        provenance.intoto.sigstore.json: provenance finishedOn",
		`PASS manifest   provenance.intoto.sigstore.json: the provenance names "dist/app.tar.gz" with the manifest's `+d.String())
	if !r.Verified {
		out, _ := os.ReadFile(manifest)
		t.Logf("manifest:\n%s", out)
	}
}
