package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// FuzzSBOMDocument: whatever bytes an SBOM record points at (the manifest
// records them faithfully), a scan returns findings or an error naming the
// file; it never panics or hangs.
func FuzzSBOMDocument(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"left-pad","version":"1.0.0","purl":"pkg:npm/left-pad@1.0.0"}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","packages":[{"SPDXID":"SPDXRef-p","name":"zlib1g","versionInfo":"1:1.2.13.dfsg-1","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12"}]}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"purl":"pkg:golang/x@%zz"}]}`))
	f.Add([]byte(`<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"></bom>`))
	f.Add([]byte("not an SBOM"))
	db := openTestDB(f, scantestOptions(), nativeVulns()...)
	f.Fuzz(func(t *testing.T, doc []byte) {
		dir := t.TempDir()
		must(t, os.WriteFile(filepath.Join(dir, "app"), []byte("app"), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, "app.cdx.json"), doc, 0o644))
		app, appSize, err := digest.File(filepath.Join(dir, "app"))
		must(t, err)
		d, n, err := digest.File(filepath.Join(dir, "app.cdx.json"))
		must(t, err)
		m := artifact.NewManifest()
		m.Add(artifact.Record{Name: "app", Path: "app", Digest: app, Size: appSize, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
		m.Add(artifact.Record{Name: "app.cdx.json", Path: "app.cdx.json", Digest: d, Size: n, MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: app})
		must(t, m.WriteFile(filepath.Join(dir, "manifest.json")))
		res, err := Run(context.Background(), Options{Dir: dir, Manifest: "manifest.json", DB: db})
		if err == nil {
			if _, err := res.Predicate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
