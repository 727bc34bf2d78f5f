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
