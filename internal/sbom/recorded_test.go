package sbom

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// writeManifest records the files (workspace-relative) as artifacts of a
// manifest in ws and returns its workspace-relative path.
func writeManifest(t testing.TB, ws string, names ...string) string {
	t.Helper()
	m := artifact.NewManifest()
	for _, n := range names {
		d, size, err := digest.File(filepath.Join(ws, n))
		if err != nil {
			t.Fatal(err)
		}
		m.Add(artifact.Record{Name: n, Path: n, Digest: d, Size: size, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	}
	if err := m.WriteFile(filepath.Join(ws, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	return "dist/manifest.json"
}

// TestRecordedDigestSameDocument: with a manifest that records the file
// subject, the digest comes from the manifest and the document is
// byte-identical to the one made by syft's own digest pass.
func TestRecordedDigestSameDocument(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	buildGoBinary(t, filepath.Join(ws, "dist"))
	manifest := writeManifest(t, ws, "dist/tiny")
	for _, format := range []string{"cyclonedx-json", "spdx-json"} {
		t.Run(format, func(t *testing.T) {
			var docs [][]byte
			for _, mf := range []string{"", manifest} {
				out := filepath.Join(ws, "out-"+format+strings.ReplaceAll(mf, "/", "_"))
				res, err := Generate(context.Background(), Options{Subject: "dist/tiny", Format: format, Output: out, Manifest: mf, Dir: ws, Created: created})
				if err != nil {
					t.Fatal(err)
				}
				if res.RecordedDigest != (mf != "") {
					t.Errorf("manifest %q: RecordedDigest = %v", mf, res.RecordedDigest)
				}
				if want := sha256sum(t, filepath.Join(ws, "dist", "tiny")); res.SubjectDigest.Hex() != want || res.Packages == 0 {
					t.Errorf("manifest %q: subject digest %s (want %s), %d packages", mf, res.SubjectDigest.Hex(), want, res.Packages)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, b)
			}
			if !bytes.Equal(docs[0], docs[1]) {
				t.Errorf("the document with the recorded digest differs from syft's:\n%s", firstDiff(string(docs[0]), string(docs[1])))
			}
		})
	}
}

// TestRecordedDigestTrusted: the recorded digest is used as sign and attest
// use it, checked by size only: a same-size change after the build is not
// seen (the SBOM stays bound to what the manifest says), a size change is
// refused, and an archive or a file the manifest does not name is digested.
func TestRecordedDigestTrusted(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	mustWrite(t, filepath.Join(ws, "dist", "a.bin"), "original content")
	mustWrite(t, filepath.Join(ws, "dist", "b.bin"), "original content")
	writeTarGz(t, filepath.Join(ws, "dist", "app.tar.gz"), "package-lock.json", "{}")
	mustWrite(t, filepath.Join(ws, "dist", "other.bin"), "not in the manifest")
	manifest := writeManifest(t, ws, "dist/a.bin", "dist/b.bin", "dist/app.tar.gz")
	recorded := sha256sum(t, filepath.Join(ws, "dist", "a.bin"))
	mustWrite(t, filepath.Join(ws, "dist", "a.bin"), "changed content!") // same size
	mustWrite(t, filepath.Join(ws, "dist", "b.bin"), "longer changed content")

	res, err := Generate(context.Background(), Options{Subject: "dist/a.bin", Manifest: manifest, Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RecordedDigest || res.SubjectDigest.Hex() != recorded {
		t.Errorf("same size: RecordedDigest %v, digest %s, want the recorded %s", res.RecordedDigest, res.SubjectDigest.Hex(), recorded)
	}

	_, err = Generate(context.Background(), Options{Subject: "dist/b.bin", Manifest: manifest, Dir: ws, Created: created})
	if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "changed after the build") {
		t.Errorf("size changed: error %v (exit %d), want exit 2 saying it changed after the build", err, exitcode.Of(err))
	}

	for _, subject := range []string{"dist/app.tar.gz", "dist/other.bin"} {
		res, err := Generate(context.Background(), Options{Subject: subject, Manifest: manifest, Dir: ws, Created: created})
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256sum(t, filepath.Join(ws, subject)); res.RecordedDigest || res.SubjectDigest.Hex() != want {
			t.Errorf("%s: RecordedDigest %v, digest %s, want syft's digest %s", subject, res.RecordedDigest, res.SubjectDigest.Hex(), want)
		}
	}
}

// writeTarGz writes a gzipped tar archive holding one file.
func writeTarGz(t testing.TB, path, name, content string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, path, buf.String())
}
