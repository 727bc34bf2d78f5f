package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// TestGolden describes the fixture project (a directory with go.mod, go.sum,
// package.json and package-lock.json) and one of its files in both formats
// and compares the documents, indented, with testdata/golden/. The documents
// are deterministic: the creation time is fixed and the serial number or
// namespace derives from it and the subject's digest. Run with -update to
// rewrite the golden files after a syft upgrade.
func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject, format, golden string
	}{
		{"project", "cyclonedx-json", "project.cdx.json"},
		{"project", "spdx-json", "project.spdx.json"},
		{"project/package-lock.json", "cyclonedx-json", "package-lock.cdx.json"},
		{"project/package-lock.json", "spdx-json", "package-lock.spdx.json"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "sbom.json")
			res, err := Generate(context.Background(), Options{
				Subject: tc.subject, Format: tc.format, Output: out, Dir: "testdata", Created: created,
			})
			if err != nil {
				t.Fatal(err)
			}
			wantSubject := treeOrFileDigest(t, filepath.Join("testdata", tc.subject))
			if res.SubjectDigest.Hex() != wantSubject {
				t.Errorf("subject digest = %s, want %s", res.SubjectDigest.Hex(), wantSubject)
			}
			if got := fileDigest(t, out); got != res.Digest.String() || res.Output != out {
				t.Errorf("result = %s %s, file on disk has %s", res.Output, res.Digest, got)
			}
			if tc.format == "spdx-json" {
				spdxCheck(t, out, wantSubject)
			} else {
				cdxDoc(t, out, wantSubject)
			}
			compareGolden(t, out, filepath.Join("testdata", "golden", tc.golden))
		})
	}
}

// treeOrFileDigest is what the subject digest must be: sha256sum of a file,
// the shell pipeline of TreeDigest's documentation for a directory.
func treeOrFileDigest(t testing.TB, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() {
		return sha256sum(t, path)
	}
	return shellTreeDigest(t, path)
}

func compareGolden(t *testing.T, got, golden string) {
	t.Helper()
	raw, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		t.Fatalf("%s is not JSON: %v", got, err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/sbom -run TestGolden -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from %s (run with -update after checking the change):\n%s", got, golden, firstDiff(string(want), pretty.String()))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want " + wl + "\n  got  " + gl
		}
	}
	return "(no line differs)"
}

// TestGoBinary describes a Go binary built by the test: the main module and
// the standard library are found, and the subject hash is the binary's.
func TestGoBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildGoBinary(t, dir)
	for _, format := range []string{"cyclonedx-json", "spdx-json"} {
		t.Run(format, func(t *testing.T) {
			res, err := Generate(context.Background(), Options{Subject: "tiny", Format: format, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			f, _ := ParseFormat(format)
			if want := "tiny" + f.Extension(); res.Output != want {
				t.Errorf("default output = %q, want %q", res.Output, want)
			}
			want := sha256sum(t, bin)
			if res.SubjectDigest.Hex() != want {
				t.Errorf("subject digest = %s, sha256sum says %s", res.SubjectDigest.Hex(), want)
			}
			out := filepath.Join(dir, res.Output)
			if format == "spdx-json" {
				spdxCheck(t, out, want)
				return
			}
			bom := cdxDoc(t, out, want)
			names := map[string]string{}
			for _, c := range *bom.Components {
				names[c.Name] = c.Version
			}
			if _, ok := names["example.com/tiny"]; !ok {
				t.Errorf("components %v lack the main module example.com/tiny", names)
			}
			if v := names["stdlib"]; !strings.HasPrefix(v, "go1.") {
				t.Errorf("components %v: stdlib version %q, want go1.x", names, v)
			}
		})
	}
}

func TestManifest(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	lock, err := os.ReadFile(filepath.Join("testdata", "project", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(ws, "dist", "package-lock.json"), string(lock))
	d, size, err := digest.File(filepath.Join(ws, "dist", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "dist/package-lock.json", Path: "dist/package-lock.json", Digest: d, Size: size, MediaType: "application/json", Role: artifact.RoleArtifact})
	manifest := filepath.Join(ws, "dist", "manifest.json")
	if err := m.WriteFile(manifest); err != nil {
		t.Fatal(err)
	}

	for _, format := range []string{"cyclonedx-json", "spdx-json", "cyclonedx-json"} { // the second CycloneDX run replaces the first record
		res, err := Generate(context.Background(), Options{Subject: "dist/package-lock.json", Format: format, Manifest: "dist/manifest.json", Dir: ws, Created: created})
		if err != nil {
			t.Fatal(err)
		}
		if !res.ManifestUpdated || res.SubjectDigest != d {
			t.Fatalf("result %+v: manifest not updated or subject digest %s != %s", res, res.SubjectDigest, d)
		}
	}
	got, err := artifact.ReadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	sboms := got.Describing(d)
	if len(sboms) != 2 || len(got.Records) != 3 {
		t.Fatalf("manifest records = %+v, want the artifact and two SBOMs describing it", got.Records)
	}
	for _, r := range sboms {
		want := map[string]string{"dist/package-lock.json.cdx.json": "application/vnd.cyclonedx+json", "dist/package-lock.json.spdx.json": "application/spdx+json"}[r.Path]
		if r.Role != artifact.RoleSBOM || r.MediaType != want || r.Name != r.Path {
			t.Errorf("record %+v: want role sbom, media type %q", r, want)
		}
		if fd := fileDigest(t, filepath.Join(ws, r.Path)); fd != r.Digest.String() {
			t.Errorf("record %s digest %s, file has %s", r.Path, r.Digest, fd)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	mustWrite(t, filepath.Join(ws, "app"), "binary")
	mustWrite(t, filepath.Join(ws, "notlayout", "blob"), "x")
	mustWrite(t, filepath.Join(ws, "bad-manifest.json"), "{")
	if err := os.Mkdir(filepath.Join(ws, "outdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"missing path", Options{Subject: "dist/missing"}, `subject "dist/missing"`},
		{"unsupported format", Options{Subject: "app", Format: "cyclonedx-xml"}, "use one of cyclonedx-json, cyclonedx-json@1.6, cyclonedx-json@1.7, spdx-json, spdx-json@2.3"},
		{"not an OCI layout", Options{Subject: "oci-layout:notlayout"}, "is not an OCI image layout (no oci-layout file)"},
		{"daemon", Options{Subject: "docker:alpine"}, "image daemons are never contacted"},
		{"output is the subject", Options{Subject: "app", Output: "app"}, "is the subject itself"},
		{"output is a directory", Options{Subject: "app", Output: "outdir"}, `output "outdir" is a directory`},
		{"missing manifest", Options{Subject: "app", Manifest: "dist/manifest.json"}, `run "slipway build" first`},
		{"bad manifest", Options{Subject: "app", Manifest: "bad-manifest.json"}, `manifest "bad-manifest.json"`},
		{"workspace without output", Options{Subject: "."}, "set output"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Dir = ws
			_, err := Generate(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("Generate() error = %v (exit %d), want exit 2 with %q", err, exitcode.Of(err), tc.want)
			}
		})
	}
	entries, _ := os.ReadDir(ws)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".json") && e.Name() != "bad-manifest.json" {
			t.Errorf("a failed run left %s behind", e.Name())
		}
	}
}

// TestReproducibleAcrossWorkspaces: the same subject in two workspaces at
// different absolute paths gives byte-identical documents (the creation
// time fixed, as SOURCE_DATE_EPOCH fixes it): nothing in them depends on
// where the workspace is, only on the subject's path inside it.
func TestReproducibleAcrossWorkspaces(t *testing.T) {
	t.Parallel()
	workspaces := []string{t.TempDir(), filepath.Join(t.TempDir(), "elsewhere", "deeper")}
	for _, ws := range workspaces {
		if err := os.CopyFS(filepath.Join(ws, "src", "project"), os.DirFS(filepath.Join("testdata", "project"))); err != nil {
			t.Fatal(err)
		}
	}
	for _, subject := range []string{"src/project", "src/project/package-lock.json"} {
		for _, format := range []string{"cyclonedx-json", "spdx-json"} {
			t.Run(subject+"/"+format, func(t *testing.T) {
				t.Parallel()
				var docs [][]byte
				for i, ws := range workspaces {
					out := filepath.Join(ws, fmt.Sprintf("sbom-%s-%d.json", format, len(subject)))
					if _, err := Generate(context.Background(), Options{Subject: subject, Format: format, Output: out, Dir: ws, Created: created}); err != nil {
						t.Fatalf("workspace %d: %v", i, err)
					}
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(b, []byte(ws)) || bytes.Contains(b, []byte(os.TempDir())) {
						t.Errorf("the document names the workspace's absolute path %s", ws)
					}
					docs = append(docs, b)
				}
				if !bytes.Equal(docs[0], docs[1]) {
					t.Errorf("the documents differ between workspaces:\n%s", firstDiff(string(docs[0]), string(docs[1])))
				}
			})
		}
	}
}
