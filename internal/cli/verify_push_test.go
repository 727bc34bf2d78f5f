package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/testutil/registry"
)

// TestVerifyAfterPush runs the stages in their natural order, build → sbom
// → sign → attest → push, against a real registry, then verify on the same
// manifest: push's registry record is a location, not an artifact, and must
// not make verify demand bundles for it (it did: the record was an artifact
// with only a URI, verified as an image with no referrers).
func TestVerifyAfterPush(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	dir := t.TempDir()
	env := release(t, dir, addr+"/slipway/release:v1")
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	regs := m.ByRole(artifact.RoleRegistry)
	if len(regs) != 1 || !strings.HasPrefix(regs[0].URI, addr+"/slipway/release@sha256:") {
		t.Fatalf("registry records = %+v, want the push's", regs)
	}
	if n := len(m.ByRole(artifact.RoleAttestation)); n != 2 {
		t.Errorf("the manifest records %d SBOM attestations, want 2", n)
	}
	code, stdout, stderr := runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml")
	if code != 0 {
		t.Fatalf("verify after push: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		`PASS manifest   provenance.intoto.sigstore.json: the provenance names "src/a.bin" with the manifest's sha256:`,
		`PASS sbom       a.bin.cdx.json.intoto.sigstore.json: SBOM attestation binds to the subject's sha256:`,
		"NOTE registry   " + addr + "/slipway/release: pushed as " + regs[0].URI + "; a location, not evidence, so not verified here: verify it with slipway verify --image " + regs[0].URI,
		"verified=true",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, stdout)
		}
	}
}
