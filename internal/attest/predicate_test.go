package attest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
)

const testResultType = "https://in-toto.io/attestation/test-result/v0.1"

// TestPredicate attests a predicate made elsewhere about every artifact of
// a manifest: the bundle next to the manifest verifies, its statement names
// both artifacts with their recorded digests (the files are gone: they are
// not read) and carries the predicate byte for byte, compacted; the manifest
// records it once per artifact with role attestation; attesting again
// replaces those records.
func TestPredicate(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	for _, name := range []string{"dist/app", "dist/lib.so"} {
		if err := os.Remove(filepath.Join(w.dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestSigner(t)
	pred := "{\n  \"result\": \"PASSED\", \"passedTests\": [\"a/<b>&c\"], \"n\": 12345678901234567890\n}\n"
	res, err := Predicate(context.Background(), PredicateOptions{
		Dir: w.dir, Manifest: "dist/manifest.json", PredicateType: testResultType, Predicate: []byte(pred), Name: "test-result", Signer: s,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.BundlePath != "dist/manifest.test-result.sigstore.json" || res.PredicateType != testResultType {
		t.Errorf("result = %+v", res.Attestation)
	}
	path := filepath.Join(w.dir, "dist", "manifest.test-result.sigstore.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if digest.SHA256(sha256sum(raw)) != res.BundleDigest || int64(len(raw)) != res.BundleSize {
		t.Error("reported bundle digest or size does not match the file")
	}
	payloadType, payload, err := openEnvelope(t, readBundle(t, path), s.PublicKey())
	if err != nil {
		t.Fatalf("envelope does not verify: %v", err)
	}
	if payloadType != provenance.PayloadType {
		t.Errorf("payloadType = %q", payloadType)
	}
	st := parseStatement(t, payload)
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != testResultType {
		t.Errorf("statement = %s", payload)
	}
	if !bytes.Equal(st.Predicate, compact(t, pred)) {
		t.Errorf("predicate = %s, want %s", st.Predicate, compact(t, pred))
	}
	if len(st.Subject) != 2 || st.Subject[0].Name != "dist/app" || st.Subject[0].Digest["sha256"] != w.app.Digest.Hex() ||
		st.Subject[1].Name != "dist/lib.so" || st.Subject[1].Digest["sha256"] != w.lib.Digest.Hex() {
		t.Errorf("subjects = %+v", st.Subject)
	}
	m, err := artifact.ReadManifest(w.manifest)
	if err != nil {
		t.Fatal(err)
	}
	recs := m.ByRole(artifact.RoleAttestation)
	if len(recs) != 2 || len(res.Records) != 2 {
		t.Fatalf("attestation records = %+v, returned %+v", recs, res.Records)
	}
	for i, subj := range []artifact.Record{w.app, w.lib} {
		r := recs[i]
		if r != res.Records[i] || r.Describes != subj.Digest || r.Path != res.BundlePath || r.Digest != res.BundleDigest ||
			r.MediaType != BundleMediaType || r.Name != res.BundlePath+"#"+subj.Name {
			t.Errorf("record %d = %+v", i, r)
		}
	}

	again, err := Predicate(context.Background(), PredicateOptions{
		Dir: w.dir, Manifest: "dist/manifest.json", PredicateType: testResultType, Predicate: []byte(`{"result":"FAILED"}`), Name: "test-result", Signer: s,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = artifact.ReadManifest(w.manifest)
	recs = m.ByRole(artifact.RoleAttestation)
	if len(recs) != 2 || recs[0].Digest != again.BundleDigest || again.BundleDigest == res.BundleDigest {
		t.Errorf("after a second run: records %+v", recs)
	}
}

// TestPredicateBundle names the default bundle after the manifest.
func TestPredicateBundle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ manifest, name, want string }{
		{"dist/manifest.json", "test-result", "dist/manifest.test-result.sigstore.json"},
		{"out/release.manifest.json", "vulns", "out/release.manifest.vulns.sigstore.json"},
		{"manifest", "vulns", "manifest.vulns.sigstore.json"},
	} {
		if got := filepath.ToSlash(PredicateBundle(filepath.FromSlash(tc.manifest), tc.name)); got != tc.want {
			t.Errorf("PredicateBundle(%q, %q) = %q, want %q", tc.manifest, tc.name, got, tc.want)
		}
	}
}

// TestPredicateErrors: bad inputs are refused before anything is signed or
// written, and a failed signature writes nothing.
func TestPredicateErrors(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	writeFile(t, filepath.Join(w.dir, "empty.json"), `{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[]}`)
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(w.dir, "out")); err != nil {
		t.Fatal(err)
	}
	base := PredicateOptions{Dir: w.dir, Manifest: "dist/manifest.json", PredicateType: testResultType, Predicate: []byte(`{"result":"PASSED"}`), Name: "test-result"}
	tests := []struct {
		name    string
		mod     func(*PredicateOptions)
		code    exitcode.Code
		file    string
		wantErr string
	}{
		{"no manifest", func(o *PredicateOptions) { o.Manifest = "" }, exitcode.Usage, "", "no manifest"},
		{"missing manifest", func(o *PredicateOptions) { o.Manifest = "nope.json" }, exitcode.Usage, "nope.json", "opening manifest"},
		{"empty manifest", func(o *PredicateOptions) { o.Manifest = "empty.json" }, exitcode.Usage, "empty.json", "lists no artifacts"},
		{"bundle outside", func(o *PredicateOptions) { o.Bundle = "out/t.sigstore.json" }, exitcode.Usage, "out/t.sigstore.json", "outside"},
		{"not an object", func(o *PredicateOptions) { o.Predicate = []byte(`["PASSED"]`) }, exitcode.Internal, "", "not a JSON object"},
		{"broken JSON", func(o *PredicateOptions) { o.Predicate = []byte(`{"result":`) }, exitcode.Internal, "", "encoding predicate"},
		{"no type", func(o *PredicateOptions) { o.PredicateType = "" }, exitcode.Internal, "", "is not a URI"},
		{"provenance", func(o *PredicateOptions) { o.PredicateType = provenance.PredicateType }, exitcode.Internal, "", "attested by Run"},
		{"name with slash", func(o *PredicateOptions) { o.Name = "../x" }, exitcode.Internal, "", "not a file name part"},
		{"signer fails", func(o *PredicateOptions) { o.Signer = failingSigner{exitcode.Infraf("KMS unreachable")} }, exitcode.Internal, "", "KMS unreachable"},
	}
	before, _ := os.ReadFile(w.manifest)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			o.Signer = newTestSigner(t)
			tc.mod(&o)
			_, err := Predicate(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Predicate() error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := exitcode.Of(err); got != tc.code {
				t.Errorf("exit code = %v, want %v", got, tc.code)
			}
			if got := exitcode.FileOf(err); got != tc.file {
				t.Errorf("file = %q, want %q", got, tc.file)
			}
		})
	}
	if after, _ := os.ReadFile(w.manifest); !bytes.Equal(before, after) {
		t.Error("manifest changed")
	}
	for _, dir := range []string{filepath.Join(w.dir, "dist"), outside} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), "sigstore") {
				t.Errorf("left %s behind", e.Name())
			}
		}
	}
}
