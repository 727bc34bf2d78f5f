package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
	"github.com/slipway/actions/internal/verify"
)

func verifyImage(t *testing.T, p *policy.Policy, ref string) *verify.SubjectReport {
	t.Helper()
	r, err := verify.New(p).Verify(context.Background(), []verify.Subject{{Name: ref, Image: ref}})
	if err != nil || len(r.Subjects) != 1 {
		t.Fatalf("Verify() = %v, %v", r, err)
	}
	return r.Subjects[0]
}

// imagePolicy trusts key (a cosign.pub) and the builder and source of
// provenance.
func imagePolicy(t *testing.T, pub []byte, extra string) *policy.Policy {
	t.Helper()
	dir := t.TempDir()
	policytest.WriteFile(t, dir, "cosign.pub", pub)
	p, err := policy.Load(policytest.WriteFile(t, dir, "policy.yaml", []byte(
		"apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n"+extra)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImage verifies an image in a real registry (the distribution
// registry), signed and attested by Slipway's sign and attest stages: the
// Sigstore bundles attached as OCI referrers are read and checked against
// the image's digest.
func TestImage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr := registry.Start(t)
	tag, _ := registry.PushRandomImage(t, addr, "team/app")
	ref := tag.String()
	unsignedTag, _ := registry.PushRandomImage(t, addr, "team/unsigned")
	unsigned := unsignedTag.String()
	key := sigstoretest.NewCosignKey(t, "pw")
	if _, err := sign.Run(ctx, sign.Options{Image: ref, Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, Dir: t.TempDir()}); err != nil {
		t.Fatalf("sign.Run() = %v", err)
	}
	dir := t.TempDir()
	m := artifact.NewManifest()
	now := time.Now().UTC()
	m.Build = &artifact.BuildInfo{Command: "make image", Repository: sourceRepo, Ref: "refs/tags/v1",
		Commit: "0123456789abcdef0123456789abcdef01234567", StartedOn: now.Add(-time.Minute), FinishedOn: now}
	if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	signer, err := signing.New(ctx, signing.Options{Key: key.PrivatePath, Password: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	builder, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: func(string) string { return "" }, ConfiguredID: "https://hpc.example.org/runners/pool"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Run(ctx, attest.Options{Dir: dir, Manifest: "manifest.json", Image: ref, Kind: attest.KindProvenance, Builder: builder, Signer: signer}); err != nil {
		t.Fatalf("attest.Run() = %v", err)
	}
	p := imagePolicy(t, key.PublicPEM, "builders: [https://hpc.example.org/runners/pool]\nsourceRepositories: ["+sourceRepo+"]\nmaxAge: 1h\n")

	t.Run("signed and attested", func(t *testing.T) {
		t.Parallel()
		s := verifyImage(t, p, ref)
		expect(t, s, true,
			"PASS signature  referrer sha256:", `(policy key "release")`,
			"PASS digest     referrer sha256:", `has the subject's sha256:`,
			`PASS builder    referrer sha256:`, `provenance builder "https://hpc.example.org/runners/pool" is allowed`,
			`PASS source     referrer sha256:`)
		if s.Digest == "" || s.Digest[:7] != "sha256:" {
			t.Errorf("digest = %q", s.Digest)
		}
	})
	t.Run("unsigned image", func(t *testing.T) {
		t.Parallel()
		expect(t, verifyImage(t, p, unsigned), false, "FAIL bundle", "no Sigstore bundle is attached to "+addr+"/team/unsigned@sha256:")
	})
	t.Run("another key", func(t *testing.T) {
		t.Parallel()
		other := sigstoretest.NewCosignKey(t, "")
		expect(t, verifyImage(t, imagePolicy(t, other.PublicPEM, ""), ref), false, "FAIL signature  referrer sha256:", "does not verify with any policy key")
	})
	t.Run("no such image", func(t *testing.T) {
		t.Parallel()
		expect(t, verifyImage(t, p, addr+"/team/nope:v1"), false, `FAIL bundle     `+addr+`/team/nope:v1: reading image "`+addr+`/team/nope:v1"`)
	})
}

// TestImageCosignInterop verifies an image signed by the real cosign CLI
// v2.6.2 in its new bundle format.
func TestImageCosignInterop(t *testing.T) {
	t.Parallel()
	cosign := tools.Require(t, "cosign")
	addr := registry.Start(t)
	tag, _ := registry.PushRandomImage(t, addr, "team/cosigned")
	ref := tag.String()
	dir := t.TempDir()
	env := []string{"COSIGN_PASSWORD=pw-" + filepath.Base(dir)}
	runTool(t, dir, env, cosign, "generate-key-pair")
	runTool(t, dir, env, cosign, "sign", "--yes", "--new-bundle-format", "--key", "cosign.key", "--tlog-upload=false",
		"--allow-http-registry", "--allow-insecure-registry", ref)
	pub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, verifyImage(t, imagePolicy(t, pub, ""), ref), true, "PASS signature  referrer sha256:", "PASS digest     referrer sha256:")
}
