package policytest

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// bundleMediaType is the media type of a Sigstore bundle v0.3 record.
const bundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// WriteRelease writes a key-signed release into dir in-process, as the
// sign and attest stages would make it: dir/app.bin holding content, its
// signature bundle app.bin.sigstore.json, its SLSA v1 provenance bundle
// app.bin.intoto.sigstore.json (builder, source repository) signed by kp,
// and dir/manifest.json recording the three.
func WriteRelease(t testing.TB, dir string, kp sign.Keypair, content []byte, builder, source string) {
	t.Helper()
	d := digest.SHA256(sha256.Sum256(content))
	st := Statement(t, "https://slsa.dev/provenance/v1", Provenance(builder, source, time.Now().UTC().Format(time.RFC3339)),
		Subject{Name: "app.bin", SHA256: d.Hex()})
	WriteSigned(t, dir, kp, "app.bin", content, st)
}

// WriteSigned writes dir/name holding content, its signature bundle
// name.sigstore.json and the in-toto statement (about content) as its
// provenance bundle name.intoto.sigstore.json, both signed by kp, and
// dir/manifest.json recording the three.
func WriteSigned(t testing.TB, dir string, kp sign.Keypair, name string, content, statement []byte) {
	t.Helper()
	d := digest.SHA256(sha256.Sum256(content))
	sig := Bundle(t, &sign.PlainData{Data: content}, kp, sign.BundleOptions{})
	prov := Bundle(t, DSSE(statement), kp, sign.BundleOptions{})
	m := artifact.NewManifest()
	for _, f := range []struct {
		path string
		data []byte
		role artifact.Role
	}{{name, content, artifact.RoleArtifact}, {name + ".sigstore.json", sig, artifact.RoleSignature}, {name + ".intoto.sigstore.json", prov, artifact.RoleProvenance}} {
		if err := os.WriteFile(filepath.Join(dir, f.path), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		r := artifact.Record{Name: f.path, Path: f.path, Digest: digest.SHA256(sha256.Sum256(f.data)), Size: int64(len(f.data)),
			MediaType: "application/octet-stream", Role: f.role}
		switch f.role {
		case artifact.RoleSignature:
			r.Describes, r.MediaType = d, bundleMediaType
		case artifact.RoleProvenance:
			r.Name, r.Describes, r.MediaType = f.path+"#"+name, d, bundleMediaType
		}
		m.Add(r)
	}
	if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

// AddAttestation signs an in-toto statement of predicateType about every
// artifact of the manifest (dir/manifest, its paths relative to the
// workspace dir) with kp, writes it as dir/name and records it in the
// manifest as an attestation of each artifact, as the attest stage records
// a predicate made elsewhere (slipway test's result, slipway scan's
// findings).
func AddAttestation(t testing.TB, dir, manifest string, kp sign.Keypair, name, predicateType string, predicate any) {
	t.Helper()
	path := filepath.Join(dir, manifest)
	m, err := artifact.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	arts := m.ByRole(artifact.RoleArtifact)
	var subjects []Subject
	for _, a := range arts {
		subjects = append(subjects, Subject{Name: a.Name, SHA256: a.Digest.Hex()})
	}
	b := Bundle(t, DSSE(Statement(t, predicateType, predicate, subjects...)), kp, sign.BundleOptions{})
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		m.Add(artifact.Record{Name: name + "#" + a.Name, Path: name, Digest: digest.SHA256(sha256.Sum256(b)), Size: int64(len(b)),
			MediaType: bundleMediaType, Role: artifact.RoleAttestation, Describes: a.Digest})
	}
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// TestResult is an in-toto test-result v0.1 predicate (API9.md's shape)
// with result and the names of the tests that failed.
func TestResult(result string, failed ...string) map[string]any {
	return map[string]any{
		"result": result,
		"configuration": []any{map[string]any{"name": "commit", "uri": "git+https://github.com/acme/app@refs/tags/v1",
			"digest": map[string]any{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}},
		"passedTests": []string{"example.com/app/TestOK"}, "warnedTests": []string{}, "failedTests": append([]string{}, failed...),
	}
}
