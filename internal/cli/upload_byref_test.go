package cli

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// checkReceiptFile verifies the receipt at path offline against the log
// key the server at url publishes.
func checkReceiptFile(t *testing.T, url, path string) {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v, err := receipt.NewVerifier(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := receipt.Parse(text)
	if err != nil {
		t.Fatalf("receipt %s: %v", path, err)
	}
	if err := receipt.Verify(rc, nil, v); err != nil {
		t.Fatalf("receipt %s does not verify offline: %v", path, err)
	}
}

// TestUploadReference: a release pushed by the real stages (build, sbom,
// sign, attest, push) whose pushed image is then signed and attested in the
// registry (sign --image, attest --image), admitted by reference through a
// real slipway serve: the server copies and verifies it, slipway upload
// writes a receipt that verifies offline; again, the same release. An
// unsigned image is refused with the check (exit 1); a tag alone is bad
// input (exit 2).
func TestUploadReference(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	dir := t.TempDir()
	env := release(t, dir, addr+"/slipway/release:v1")
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := m.ByRole(artifact.RoleRegistry)[0].URI
	for _, args := range [][]string{
		{"sign", "--image", pinned, "--tlog=false"},
		{"attest", "--image", pinned, "--manifest", "dist/manifest.json", "--tlog=false", "--builder-id", releaseBuilder},
	} {
		if code, stdout, stderr := runCLI(t, dir, env, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	data := t.TempDir()
	env["SLIPWAY_TOKEN"] = createToken(t, dir, data, "upload,read")
	url := startServe(t, dir, data, "policy.yaml", "--allow-private-registries")

	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", url, "--reference", pinned)
	out := nameValues(stdout)
	if code != 0 || !strings.HasPrefix(out["release-id"], "r-") || out["receipt"] != out["release-id"]+".receipt" {
		t.Fatalf("upload --reference: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkReceiptFile(t, url, filepath.Join(dir, out["receipt"]))
	code, stdout, stderr = runCLI(t, dir, env, "upload", "--server", url, "--reference", pinned, "--receipt", "again.receipt")
	if again := nameValues(stdout); code != 0 || again["release-id"] != out["release-id"] || again["log-index"] != out["log-index"] {
		t.Fatalf("the same reference again: exit %d, outputs %v, want %v\n%s", code, again, out, stderr)
	}

	tag, d := registry.PushRandomImage(t, addr, "team/unsigned")
	code, stdout, stderr = runCLI(t, dir, env, "upload", "--server", url, "--reference", tag.Context().Digest(d.String()).String())
	if code != 1 || !strings.Contains(stderr, "422") || !strings.Contains(stderr, `"bundle"`) {
		t.Fatalf("upload --reference of an unsigned image: exit %d, want 1 with the failed check\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("refused: %s", stderr)
	code, _, stderr = runCLI(t, dir, env, "upload", "--server", url, "--reference", tag.String())
	if code != 2 || !strings.Contains(stderr, "names a tag") {
		t.Fatalf("upload --reference with a tag: exit %d, want 2\n%s", code, stderr)
	}
}

// singleRelease runs the stages on one artifact, src/app.bin (build, sbom,
// sign, attest provenance, attest the SBOM), and returns the paths of its
// bundles and SBOM, for upload --subject.
func singleRelease(t *testing.T, dir string, env map[string]string) []string {
	t.Helper()
	const manifest = "dist/manifest.json"
	for _, args := range [][]string{
		{"build", "--command", "mkdir -p src && echo the-app > src/app.bin", "--artifacts", "src/app.bin"},
		{"sbom", "--subject", "src/app.bin", "--manifest", manifest},
		{"sign", "--manifest", manifest, "--tlog=false"},
		{"attest", "--manifest", manifest, "--tlog=false", "--builder-id", releaseBuilder},
		{"attest", "--manifest", manifest, "--tlog=false", "--predicate-type", "cyclonedx"},
	} {
		if code, stdout, stderr := runCLI(t, dir, env, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, manifest))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range m.Records {
		if r.Role != artifact.RoleArtifact && r.Path != "" && !slices.Contains(files, r.Path) {
			files = append(files, r.Path)
		}
	}
	return files
}

// TestUploadSubject: one file and its bundles, without a manifest, made by
// the real stages: slipway upload --subject --bundles records each bundle
// as what it is, the server verifies the release as it verifies a
// manifest, and the receipt verifies offline. A file whose provenance
// names another artifact too is refused with the check (exit 1); a file
// that is no bundle is bad input (exit 2).
func TestUploadSubject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := release(t, dir, "") // src/a.bin and src/old.bin, one provenance naming both
	single := t.TempDir()
	bundles := singleRelease(t, single, env)
	if len(bundles) != 4 {
		t.Fatalf("bundles %q, want a signature, a provenance, an SBOM and its attestation", bundles)
	}
	for _, f := range []string{"cosign.pub", "policy.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(single, f), string(b))
	}
	data := t.TempDir()
	env["SLIPWAY_TOKEN"] = createToken(t, single, data, "upload,read")
	url := startServe(t, single, data, "policy.yaml")

	code, stdout, stderr := runCLI(t, single, env, "upload", "--server", url, "--subject", "src/app.bin", "--bundles", strings.Join(bundles, ","))
	out := nameValues(stdout)
	if code != 0 || out["receipt"] != "src/"+out["release-id"]+".receipt" {
		t.Fatalf("upload --subject: exit %d\n%s\n%s", code, stdout, stderr)
	}
	checkReceiptFile(t, url, filepath.Join(single, out["receipt"]))
	for _, want := range []string{"PASS sbom", "PASS builder", "PASS manifest"} {
		if !strings.Contains(stdout+stderr, want) {
			t.Errorf("the upload's summary lacks %q:\n%s", want, stdout)
		}
	}

	// src/a.bin alone, with the provenance of both artifacts: refused.
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var aBundles []string
	for _, r := range m.Records {
		if r.Path != "" && r.Role != artifact.RoleArtifact && r.Role != artifact.RoleSBOM && !slices.Contains(aBundles, r.Path) && (strings.HasPrefix(r.Path, "src/a.bin") || r.Role == artifact.RoleProvenance) {
			aBundles = append(aBundles, r.Path)
		}
	}
	env["SLIPWAY_TOKEN"] = createToken(t, dir, data, "upload")
	code, stdout, stderr = runCLI(t, dir, env, "upload", "--server", url, "--subject", "src/a.bin", "--bundles", strings.Join(aBundles, ","))
	if code != 1 || !strings.Contains(stderr, "422") || !strings.Contains(stderr, `"manifest"`) {
		t.Fatalf("upload --subject src/a.bin with a provenance naming src/old.bin too: exit %d, want 1 with check manifest\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("refused: %s", stderr)
	code, _, stderr = runCLI(t, single, env, "upload", "--server", url, "--subject", "src/app.bin", "--bundles", "src/app.bin")
	if code != 2 || !strings.Contains(stderr, "is neither a Sigstore bundle") {
		t.Fatalf("upload --subject with the subject as its bundle: exit %d, want 2\n%s", code, stderr)
	}
}
