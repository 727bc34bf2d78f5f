package artifact

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mediatype"
)

func TestRecordBinding(t *testing.T) {
	t.Parallel()
	d, _ := digest.ParseHex(hexA)
	file := func(name, path string, role Role) Record {
		r := Record{Name: name, Path: path, Digest: d, MediaType: "application/octet-stream", Role: role}
		if role != RoleArtifact {
			r.Describes = d
		}
		return r
	}
	layout := Record{Name: "dist/image", Path: "dist/image/blobs/sha256/" + hexA, Digest: d, MediaType: mediatype.OCIManifest, Role: RoleArtifact}
	image := Record{Name: "ghcr.io/o/app", URI: "ghcr.io/o/app@sha256:" + hexA, Digest: d, MediaType: mediatype.OCIManifest, Role: RoleArtifact}
	pushed := Record{Name: "ghcr.io/o/app", URI: "ghcr.io/o/app@sha256:" + hexA, Digest: d, MediaType: mediatype.OCIManifest, Role: RoleRegistry}
	with := func(r Record, change func(*Record)) Record { change(&r); return r }
	tests := []struct {
		name string
		rec  Record
		want string // "" for valid
	}{
		{"file artifact", file("src/a.bin", "src/a.bin", RoleArtifact), ""},
		{"name pointing at another file", file("src/a.bin", "src/old.bin", RoleArtifact), `field "path" is "src/old.bin", want the name "src/a.bin"`},
		{"path leaving the workspace", file("../x", "../x", RoleArtifact), `field "path" "../x" leaves the workspace`},
		{"absolute path", file("/etc/passwd", "/etc/passwd", RoleArtifact), `"/etc/passwd" is absolute`},
		{"path with dot dot inside", file("src/../../x", "src/../../x", RoleArtifact), `is not a clean path (write it as "../x"`},
		{"path with a dot segment", file("./src/a.bin", "./src/a.bin", RoleArtifact), `is not a clean path (write it as "src/a.bin"`},
		{"path with an empty segment", file("src//a.bin", "src//a.bin", RoleArtifact), "is not a clean path"},
		{"trailing slash", file("src/", "src/", RoleArtifact), "is not a clean path"},
		{"the workspace itself", file(".", ".", RoleArtifact), "is not a clean path"},
		{"NUL", file("a\x00b", "a\x00b", RoleArtifact), "NUL"},
		{"OCI layout", layout, ""},
		{"OCI layout, another blob", with(layout, func(r *Record) { r.Path = "dist/image/blobs/sha256/" + strings.Repeat("b", 64) }), `want "dist/image/blobs/sha256/` + hexA + `"`},
		{"OCI layout outside", with(layout, func(r *Record) { r.Name, r.Path = "../image", "../image/blobs/sha256/"+hexA }), "leaves the workspace"},
		{"not a layout, named after a directory", with(layout, func(r *Record) { r.MediaType = "application/gzip" }), `want the name "dist/image"`},
		{"image in a registry", image, ""},
		{"image pinned to another digest", with(image, func(r *Record) { r.URI = "ghcr.io/o/app@sha256:" + strings.Repeat("b", 64) }), "field \"uri\""},
		{"image under another name", with(image, func(r *Record) { r.Name = "ghcr.io/o/other" }), "field \"uri\""},
		{"artifact with neither", with(image, func(r *Record) { r.URI = "" }), `needs field "path" (a file) or "uri"`},
		{"signature", file("src/a.bin.sigstore.json", "src/a.bin.sigstore.json", RoleSignature), ""},
		{"signature elsewhere", file("src/a.bin.sigstore.json", "other.sigstore.json", RoleSignature), "want the name"},
		{"sbom outside", file("../sbom.json", "../sbom.json", RoleSBOM), "leaves the workspace"},
		{"sbom without a file", with(file("sbom", "", RoleSBOM), func(r *Record) { r.URI = "https://example.com/sbom" }), ""},
		{"provenance", file("dist/p.json#src/a.bin", "dist/p.json", RoleProvenance), ""},
		{"provenance of another bundle", file("dist/p.json#src/a.bin", "dist/q.json", RoleProvenance), `want "dist/q.json#" followed by the name`},
		{"provenance without subject", file("dist/p.json#", "dist/p.json", RoleProvenance), "followed by the name"},
		{"provenance outside", file("/tmp/p.json#a", "/tmp/p.json", RoleProvenance), "is absolute"},
		{"provenance without path", file("dist/p.json#a", "", RoleProvenance), `needs field "path"`},
		{"attestation", file("a.cdx.json.intoto.sigstore.json#src/a.bin", "a.cdx.json.intoto.sigstore.json", RoleAttestation), ""},
		{"registry copy", pushed, ""},
		{"registry copy with a path", with(pushed, func(r *Record) { r.Path = "x" }), `has no field "path"`},
		{"registry copy pinned elsewhere", with(pushed, func(r *Record) { r.URI = "evil.example/o/app@sha256:" + hexA }), "field \"uri\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.rec.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestManifestNamesOncePerRole(t *testing.T) {
	t.Parallel()
	d, _ := digest.ParseHex(hexA)
	m := NewManifest()
	r := Record{Name: "a", Path: "a", Digest: d, MediaType: "x", Role: RoleArtifact}
	m.Records = []Record{r, r}
	if err := m.Validate(); err == nil || !strings.Contains(err.Error(), `artifacts[1]: record "a": another artifact record, artifacts[0], has the same name`) {
		t.Fatalf("Validate() = %v", err)
	}
	if err := m.WriteFile(t.TempDir() + "/m.json"); err == nil {
		t.Fatal("WriteFile() wrote an invalid manifest")
	}
}

// FuzzDecode feeds arbitrary manifests to Decode: it must never panic,
// and what it accepts must have only paths inside the workspace, each bound
// to its record's name, and encode to a manifest that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(`{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"a","path":"a","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"artifact"}]}`)
	f.Add(`{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"a","path":"../a","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"artifact"}]}`)
	f.Add(`{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"p#a","path":"p","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"provenance","describes":{"sha256":"` + hexA + `"}}]}`)
	f.Add(`{"mediaType":"` + ManifestMediaType + `","artifacts":[{"name":"r","uri":"r@sha256:` + hexA + `","digest":{"sha256":"` + hexA + `"},"size":1,"mediaType":"x","role":"registry"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Decode(strings.NewReader(in), "fuzz.json")
		if err != nil {
			return
		}
		for _, r := range m.Records {
			if r.Path == "" {
				continue
			}
			if err := CheckPath(r.Path); err != nil {
				t.Fatalf("accepted record %q with path %v", r.Name, err)
			}
			if r.Path != r.Name && !strings.HasPrefix(r.Name, r.Path+"#") && r.Path != LayoutBlob(r.Name, r.Digest.Hex()) {
				t.Fatalf("accepted record %q whose path %q is not bound to its name", r.Name, r.Path)
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Decode(bytes.NewReader(b), "again.json")
		if err != nil {
			t.Fatalf("the encoded manifest does not decode: %v\n%s", err, b)
		}
		if len(again.Records) != len(m.Records) {
			t.Fatalf("round trip lost records")
		}
		for i := range m.Records {
			if again.Records[i] != m.Records[i] {
				t.Fatalf("round trip changed %+v into %+v", m.Records[i], again.Records[i])
			}
		}
	})
}

func TestReceiptRecordName(t *testing.T) {
	t.Parallel()
	d := digest.SHA256{1}
	if err := NewReceipt("dist/app.receipt", d, 10, digest.SHA256{2}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rec  Record
		want string
	}{
		{NewReceipt("dist/app.json", d, 10, digest.SHA256{2}), `a receipt record's name ends in ".receipt"`},
		{NewReceipt("dist/app.receipt", d, 10, digest.SHA256{}), `needs field "describes"`},
	} {
		if err := tc.rec.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%q) = %v, want %q", tc.rec.Name, err, tc.want)
		}
	}
}
