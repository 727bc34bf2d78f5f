package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// nameValues parses the name=value lines the CLI prints for outputs.
func nameValues(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestSBOMCommandAfterBuild runs build and then sbom with the build's
// manifest, as the pipeline and a workflow do.
func TestSBOMCommandAfterBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PATH": os.Getenv("PATH"), "SOURCE_DATE_EPOCH": "1700000000"}
	lock := `{"name":"w","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"w","version":"1.0.0"},"node_modules/left-pad":{"version":"1.3.0"}}}`
	if err := os.WriteFile(filepath.Join(dir, "lock.json"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBuild(t, dir, env, "--command", "mkdir -p out && cp lock.json out/package-lock.json", "--artifacts", "out/package-lock.json")
	if code != 0 {
		t.Fatalf("build exited %d: %s", code, stderr)
	}
	code, stdout, stderr := runSBOM(t, dir, env, "--subject", "out/package-lock.json", "--manifest", "dist/manifest.json")
	if code != 0 {
		t.Fatalf("sbom exited %d: %s", code, stderr)
	}
	outs := nameValues(stdout)
	if outs["sbom-path"] != "out/package-lock.json.cdx.json" {
		t.Errorf("sbom-path = %q, want out/package-lock.json.cdx.json", outs["sbom-path"])
	}
	d, _, err := digest.File(filepath.Join(dir, "out", "package-lock.json.cdx.json"))
	if err != nil || outs["sbom-digest"] != d.String() {
		t.Errorf("sbom-digest = %q, the file has %s (%v)", outs["sbom-digest"], d, err)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	app := m.ByRole(artifact.RoleArtifact)[0]
	if outs["subject-digest"] != app.Digest.String() {
		t.Errorf("subject-digest = %q, the manifest's artifact has %s", outs["subject-digest"], app.Digest)
	}
	sboms := m.Describing(app.Digest)
	if len(sboms) != 1 || sboms[0].Path != "out/package-lock.json.cdx.json" || sboms[0].Digest != d {
		t.Errorf("manifest SBOM records = %+v", sboms)
	}
	for _, w := range []string{"SBOM", "out/package-lock.json", "cyclonedx-json 1.6, 2 packages", "recorded in dist/manifest.json"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out", "package-lock.json.cdx.json"))
	if !bytes.Contains(b, []byte(`"timestamp":"2023-11-14T22:13:20Z"`)) {
		t.Errorf("the SBOM does not carry SOURCE_DATE_EPOCH as its timestamp: %.300s", b)
	}
}

func TestSBOMCommandInActions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ghOut := filepath.Join(t.TempDir(), "output")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": ghOut,
		"INPUT_SUBJECT": "go.mod", "INPUT_FORMAT": "spdx-json", "INPUT_OUTPUT": "sboms/x.spdx.json",
	}
	code, stdout, stderr := runSBOM(t, dir, env)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(ghOut)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"sbom-path<<", "sboms/x.spdx.json", "sbom-digest<<", "subject-digest<<"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", w, b)
		}
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "sboms", "x.spdx.json"))
	if err != nil || json.Unmarshal(raw, &doc) != nil || doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("sboms/x.spdx.json: spdxVersion %q (%v)", doc.SPDXVersion, err)
	}
}

func TestSBOMCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no subject", nil, nil, "no subject given"},
		{"glob matches nothing", nil, []string{"--subject", "*.bin"}, "matched no files"},
		{"missing path", nil, []string{"--subject", "dist/missing"}, `subject "dist/missing"`},
		{"unsupported format", nil, []string{"--subject", "app", "--format", "spdx-tag-value"}, "use one of cyclonedx-json, cyclonedx-json@1.6, cyclonedx-json@1.7, spdx-json, spdx-json@2.3"},
		{"not a layout", nil, []string{"--subject", "oci-layout:."}, "is not an OCI image layout"},
		{"bad SOURCE_DATE_EPOCH", map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, []string{"--subject", "app"}, `SOURCE_DATE_EPOCH="yesterday"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runSBOM(t, dir, tc.env, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 with %q", code, stderr, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed runs left files behind: %v", entries)
	}
}

// TestSBOMCommandSeveralSubjects: with a manifest and no subject every
// artifact gets its SBOM, recorded in the manifest; globs (with exclusions)
// select files as build's artifacts do; output is refused with several.
func TestSBOMCommandSeveralSubjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PATH": os.Getenv("PATH"), "SOURCE_DATE_EPOCH": "1700000000"}
	lock := `{"name":"w","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"w","version":"1.0.0"},"node_modules/left-pad":{"version":"1.3.0"}}}`
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, "out", d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "out", d, "package-lock.json"), []byte(strings.Replace(lock, `"w"`, `"`+d+`"`, 2)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runBuild(t, dir, env, "--artifacts", "out/**"); code != 0 {
		t.Fatalf("build exited %d: %s", code, stderr)
	}

	code, stdout, stderr := runSBOM(t, dir, env, "--manifest", "dist/manifest.json")
	if code != 0 {
		t.Fatalf("sbom exited %d: %s", code, stderr)
	}
	outs := nameValues(stdout)
	want := []string{"out/a/package-lock.json.cdx.json", "out/b/package-lock.json.cdx.json"}
	if outs["sbom-path"] != want[0] || !strings.Contains(stdout, "sboms<<EOF_SLIPWAY\n"+strings.Join(want, "\n")+"\nEOF_SLIPWAY\n") {
		t.Errorf("sbom-path = %q and sboms, want %s first and all of %v:\n%s", outs["sbom-path"], want[0], want, stdout)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range m.ByRole(artifact.RoleArtifact) {
		sboms := m.Describing(a.Digest)
		if len(sboms) != 1 || sboms[0].Path != want[i] {
			t.Errorf("artifact %s: SBOM records %+v, want %s", a.Name, sboms, want[i])
		}
	}

	code, stdout, stderr = runSBOM(t, dir, env, "--subject", "out/**/*.json\n!out/a/**", "--format", "spdx-json")
	if code != 0 {
		t.Fatalf("sbom with globs exited %d: %s", code, stderr)
	}
	if outs := nameValues(stdout); outs["sbom-path"] != "out/b/package-lock.json.spdx.json" {
		t.Errorf("sbom-path = %q, want only out/b's SBOM:\n%s", outs["sbom-path"], stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "a", "package-lock.json.spdx.json")); err == nil {
		t.Error("the excluded out/a got an SBOM")
	}

	code, _, stderr = runSBOM(t, dir, env, "--subject", "out/a/package-lock.json,out/b/package-lock.json", "--output", "x.cdx.json")
	if code != 2 || !strings.Contains(stderr, "leave output empty") {
		t.Errorf("output with two subjects: exit %d, %s", code, stderr)
	}
}
