package attest

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// cosignTimeout bounds one cosign run, so that a hung tool fails the test
// instead of the whole suite.
const cosignTimeout = 2 * time.Minute

// cosignCLI runs the real cosign with a clean, offline environment.
type cosignCLI struct {
	bin, home, trustedRoot string
}

func newCosign(t *testing.T) *cosignCLI {
	t.Helper()
	// With --key, a trusted root with no authorities is what cosign v2.6.2
	// needs as --trusted-root to verify a bundle offline.
	return &cosignCLI{bin: tools.Require(t, "cosign"), home: t.TempDir(), trustedRoot: sigstoretest.WriteKeyOnlyTrustedRoot(t)}
}

func (c *cosignCLI) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return c.runEnv(t, nil, args...)
}

// runEnv is run with extra environment variables.
func (c *cosignCLI) runEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cosignTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append([]string{"HOME=" + c.home, "PATH=/usr/bin:/bin", "TUF_ROOT=" + filepath.Join(c.home, "tuf"), "SIGSTORE_NO_CACHE=true"}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// verifyBlob runs cosign verify-blob-attestation against a bundle file.
func (c *cosignCLI) verifyBlob(t *testing.T, pubKey, bundlePath, typ, file string) (string, error) {
	t.Helper()
	return c.run(t, "verify-blob-attestation", "--key", pubKey, "--new-bundle-format", "--bundle", bundlePath,
		"--trusted-root", c.trustedRoot, "--insecure-ignore-tlog", "--type", typ, file)
}

// TestCosignVerifiesProvenance: the real cosign CLI accepts the provenance
// of a subject file and of every subject of a manifest's statement, and
// refuses a tampered payload or another file.
func TestCosignVerifiesProvenance(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	w := newWorkspace(t)
	s := newTestSigner(t)
	pub := s.publicKeyPath(t)
	ctx := context.Background()
	if _, err := Run(ctx, Options{Dir: w.dir, Subject: "dist/app", Kind: KindProvenance, Builder: githubBuilder(t), Signer: s}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: localBuilder(t), Signer: s}); err != nil {
		t.Fatal(err)
	}
	app, lib := filepath.Join(w.dir, "dist", "app"), filepath.Join(w.dir, "dist", "lib.so")
	single := app + BundleSuffix
	multi := filepath.Join(w.dir, "dist", ManifestProvenanceName)
	for _, tc := range []struct{ bundle, file string }{{single, app}, {multi, app}, {multi, lib}} {
		if out, err := c.verifyBlob(t, pub, tc.bundle, "slsaprovenance1", tc.file); err != nil || !strings.Contains(out, "Verified OK") {
			t.Errorf("cosign verify-blob-attestation %s %s: %v\n%s", filepath.Base(tc.bundle), filepath.Base(tc.file), err, out)
		}
	}
	if out, err := c.verifyBlob(t, pub, single, "slsaprovenance1", lib); err == nil {
		t.Errorf("cosign accepted the provenance of dist/app for dist/lib.so:\n%s", out)
	}
	tampered := tamper(t, single, s.PublicKey(), func(p []byte) []byte {
		return bytes.Replace(p, []byte("refs/heads/main"), []byte("refs/heads/evil"), 1)
	})
	if out, err := c.verifyBlob(t, pub, tampered, "slsaprovenance1", app); err == nil {
		t.Errorf("cosign accepted a tampered payload:\n%s", out)
	}
	other := newOtherSigner(t).publicKeyPath(t)
	if out, err := c.verifyBlob(t, other, single, "slsaprovenance1", app); err == nil {
		t.Errorf("cosign accepted the provenance with another key:\n%s", out)
	}
}

// TestCosignVerifiesSBOMAttestation: cosign accepts an inlined CycloneDX
// attestation and a by-reference one for the artifact they describe.
func TestCosignVerifiesSBOMAttestation(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	w := newWorkspace(t)
	s := newTestSigner(t)
	pub := s.publicKeyPath(t)
	ctx := context.Background()
	res, err := Run(ctx, Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindCycloneDX, SBOMInlineLimit: DefaultSBOMInlineLimit, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Run(ctx, Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindSPDX, SBOMInlineLimit: 0, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(w.dir, "dist", "app")
	for _, tc := range []struct{ bundle, typ string }{
		{res.Attestations[0].BundlePath, "cyclonedx"},
		{ref.Attestations[0].BundlePath, SBOMReferencePredicateType},
	} {
		if out, err := c.verifyBlob(t, pub, filepath.Join(w.dir, tc.bundle), tc.typ, app); err != nil || !strings.Contains(out, "Verified OK") {
			t.Errorf("cosign verify-blob-attestation --type %s: %v\n%s", tc.typ, err, out)
		}
	}
	tampered := tamper(t, filepath.Join(w.dir, res.Attestations[0].BundlePath), s.PublicKey(), func(p []byte) []byte { return bytes.Replace(p, []byte("zlib"), []byte("zlob"), 1) })
	if out, err := c.verifyBlob(t, pub, tampered, "cyclonedx", app); err == nil {
		t.Errorf("cosign accepted a tampered SBOM:\n%s", out)
	}
}

// tamper rewrites the DSSE payload of a bundle file with edit, keeping the
// signature, and returns the new file's path.
func tamper(t *testing.T, path string, pub crypto.PublicKey, edit func([]byte) []byte) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	env := doc["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	changed := edit(payload)
	if bytes.Equal(changed, payload) {
		t.Fatal("tamper edit changed nothing")
	}
	env["payload"] = base64.StdEncoding.EncodeToString(changed)
	out, _ := json.Marshal(doc)
	p := filepath.Join(t.TempDir(), "tampered.sigstore.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := openEnvelope(t, readBundle(t, p), pub); err == nil {
		t.Fatal("tampered bundle still verifies with our own verifier")
	}
	return p
}
