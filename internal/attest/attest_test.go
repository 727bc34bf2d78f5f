package attest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
)

// TestManifestProvenance attests a whole manifest: one statement with every
// artifact as a subject, the artifacts' digests taken from the manifest (the
// artifacts are deleted first: they must not be read), a DSSE envelope of
// type application/vnd.in-toto+json, and provenance records added to the
// manifest.
func TestManifestProvenance(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	for _, name := range []string{"dist/app", "dist/lib.so"} {
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestSigner(t)
	b := localBuilder(t)
	res, err := Run(context.Background(), Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: b, Version: "v-test", Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attestations) != 1 || !res.ManifestUpdated {
		t.Fatalf("Run() = %+v", res)
	}
	a := res.Attestations[0]
	if a.BundlePath != "dist/provenance.intoto.sigstore.json" || a.PredicateType != provenance.PredicateType {
		t.Errorf("attestation = %+v", a)
	}
	path := filepath.Join(w.dir, "dist", "provenance.intoto.sigstore.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if digest.SHA256(sha256sum(raw)) != a.BundleDigest || int64(len(raw)) != a.BundleSize {
		t.Error("reported bundle digest or size does not match the file")
	}
	payloadType, payload, err := openEnvelope(t, readBundle(t, path), s.PublicKey())
	if err != nil {
		t.Fatalf("envelope does not verify: %v", err)
	}
	if payloadType != "application/vnd.in-toto+json" {
		t.Errorf("payloadType = %q", payloadType)
	}
	st, err := provenance.New(provenance.Options{Subjects: w.m.Subjects(), Build: w.m.Build, Builder: b, Version: "v-test"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := provenance.Marshal(st)
	if !bytes.Equal(payload, want) {
		t.Errorf("payload =\n%s\nwant\n%s", payload, want)
	}

	m, err := artifact.ReadManifest(w.manifest)
	if err != nil {
		t.Fatal(err)
	}
	recs := m.ByRole(artifact.RoleProvenance)
	if len(recs) != 2 {
		t.Fatalf("provenance records = %+v", recs)
	}
	for i, subj := range []artifact.Record{w.app, w.lib} {
		r := recs[i]
		if r.Describes != subj.Digest || r.Path != a.BundlePath || r.Digest != a.BundleDigest || r.MediaType != BundleMediaType {
			t.Errorf("record %d = %+v", i, r)
		}
	}
	// Attesting again replaces the records instead of adding more.
	if _, err := Run(context.Background(), Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: b, Signer: s}); err != nil {
		t.Fatal(err)
	}
	m, _ = artifact.ReadManifest(w.manifest)
	if n := len(m.ByRole(artifact.RoleProvenance)); n != 2 {
		t.Errorf("after a second run: %d provenance records, want 2", n)
	}
}

// TestSubjectFile attests a bare file: hashed once, bundle next to it.
func TestSubjectFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := writeFile(t, filepath.Join(dir, "out", "tool"), "a tool\n")
	s := newTestSigner(t)
	res, err := Run(context.Background(), Options{Dir: dir, Subject: "out/tool", Kind: KindProvenance, Builder: githubBuilder(t), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Attestations[0]
	if a.BundlePath != "out/tool.intoto.sigstore.json" || res.ManifestUpdated {
		t.Errorf("result = %+v", res)
	}
	_, payload, err := openEnvelope(t, readBundle(t, filepath.Join(dir, "out", "tool.intoto.sigstore.json")), s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	st := parseStatement(t, payload)
	if len(st.Subject) != 1 || st.Subject[0].Name != "out/tool" || st.Subject[0].Digest["sha256"] != rec.Digest.Hex() {
		t.Errorf("subjects = %+v", st.Subject)
	}
}

// TestSubjectFromManifest takes a subject's digest from the manifest: the
// file itself is gone and must not be needed.
func TestSubjectFromManifest(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	if err := os.Remove(filepath.Join(w.dir, "dist", "lib.so")); err != nil {
		t.Fatal(err)
	}
	s := newTestSigner(t)
	res, err := Run(context.Background(), Options{Dir: w.dir, Subject: "dist/lib.so", Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: localBuilder(t), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Attestations[0]
	if len(a.Subjects) != 1 || a.Subjects[0].Digest != w.lib.Digest || a.BundlePath != "dist/lib.so.intoto.sigstore.json" {
		t.Errorf("attestation = %+v", a)
	}
	m, _ := artifact.ReadManifest(w.manifest)
	if recs := m.ByRole(artifact.RoleProvenance); len(recs) != 1 || recs[0].Describes != w.lib.Digest {
		t.Errorf("provenance records = %+v", recs)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	writeFile(t, filepath.Join(w.dir, "loose"), "x")
	writeFile(t, filepath.Join(w.dir, "empty.json"), `{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[]}`)
	writeFile(t, filepath.Join(w.dir, "broken.json"), `{"mediaType":`)
	base := Options{Dir: w.dir, Kind: KindProvenance, Builder: localBuilder(t), SBOMInlineLimit: DefaultSBOMInlineLimit}
	tests := []struct {
		name    string
		mod     func(*Options)
		code    exitcode.Code
		file    string
		wantErr string
	}{
		{"nothing to attest", func(o *Options) {}, exitcode.Usage, "", "nothing to attest"},
		{"subject and image", func(o *Options) { o.Subject, o.Image = "loose", "localhost:5000/x:1" }, exitcode.Usage, "", "subject and image are both set"},
		{"missing subject", func(o *Options) { o.Subject = "nope" }, exitcode.Usage, "nope", "reading subject"},
		{"directory subject", func(o *Options) { o.Subject = "dist" }, exitcode.Usage, "dist", "is not a regular file"},
		{"local bare subject", func(o *Options) { o.Subject = "loose" }, exitcode.Usage, "", "nothing is known about how the subjects were built"},
		{"subject not in manifest", func(o *Options) { o.Subject, o.Manifest = "loose", "dist/manifest.json" }, exitcode.Usage, "dist/manifest.json", `subject "loose" is not an artifact of manifest`},
		{"missing manifest", func(o *Options) { o.Manifest = "nope.json" }, exitcode.Usage, "nope.json", "opening manifest"},
		{"broken manifest", func(o *Options) { o.Manifest = "broken.json" }, exitcode.Usage, "broken.json", `parsing manifest`},
		{"empty manifest", func(o *Options) { o.Manifest = "empty.json" }, exitcode.Usage, "empty.json", "lists no artifacts"},
		{"sbom with provenance", func(o *Options) { o.Manifest, o.SBOM = "dist/manifest.json", "dist/app.cdx.json" }, exitcode.Usage, "", "set predicate-type to cyclonedx or spdx"},
		{"sbom kind without sbom", func(o *Options) { o.Subject, o.Kind = "loose", KindCycloneDX }, exitcode.Usage, "", "needs an SBOM"},
		{"negative limit", func(o *Options) { o.Manifest, o.SBOMInlineLimit = "dist/manifest.json", -1 }, exitcode.Usage, "", "sbom-inline-limit is negative"},
		{"bad image reference", func(o *Options) { o.Image = "no-registry" }, exitcode.Usage, "", `input "image"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := base
			o.Signer = newTestSigner(t)
			tc.mod(&o)
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit code = %v, want %v", got, tc.code)
			}
			if got := exitcode.FileOf(err); got != tc.file {
				t.Errorf("file = %q, want %q", got, tc.file)
			}
		})
	}
}

// TestSigningFailureWritesNothing: when a signature fails, no bundle is
// written and the manifest is untouched.
func TestSigningFailureWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	before, _ := os.ReadFile(w.manifest)
	s := failingSigner{exitcode.Infraf("KMS unreachable")}
	_, err := Run(context.Background(), Options{Dir: w.dir, Manifest: "dist/manifest.json", Kind: KindCycloneDX, SBOMInlineLimit: DefaultSBOMInlineLimit, Signer: s})
	if err == nil || exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "KMS unreachable") {
		t.Fatalf("Run() error = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(w.dir, "dist"))
	for _, e := range entries {
		if strings.Contains(e.Name(), "sigstore") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left %s behind", e.Name())
		}
	}
	after, _ := os.ReadFile(w.manifest)
	if !bytes.Equal(before, after) {
		t.Error("manifest changed")
	}
	if !errors.Is(err, s.err) {
		t.Error("the signer's error is not wrapped")
	}
}
