package dispatch

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/export"
)

const testReference = `{"reference":"reg.example:5000/acme/app@sha256:` + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + `"}`

// releaseOf is the release a control plane makes of manifest raw.
func releaseOf(raw string) export.Release {
	d := digest.SHA256(sha256.Sum256([]byte(raw)))
	return export.Release{ID: "r-" + d.Hex()[:16], ManifestDigest: d.String()}
}

// TestParseReference: only the canonical reference of an image pinned by
// digest, whose digest and id are the release's, is a release admitted by
// reference; a build manifest is not one (ok false).
func TestParseReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		rel       *export.Release // nil: releaseOf(raw)
		ok        bool
		want      string // "" = accepted
	}{
		{name: "canonical", raw: testReference, ok: true},
		{name: "a build manifest", raw: `{"mediaType":"application/vnd.slipway.manifest.v1+json","records":[]}`},
		{name: "not JSON", raw: "reference"},
		{name: "another release's", raw: testReference, rel: &export.Release{ID: "r-0000000000000000", ManifestDigest: "sha256:" + strings.Repeat("0", 64)}, ok: true, want: "not the release's"},
		{name: "a tag", raw: `{"reference":"reg.example:5000/acme/app:v1"}`, ok: true, want: "not pinned by a digest"},
		{name: "not canonical", raw: `{ "reference": "reg.example:5000/acme/app@sha256:` + strings.Repeat("a", 64) + `"}`, ok: true, want: "not the canonical form"},
		{name: "a tag and a digest", raw: `{"reference":"reg.example:5000/acme/app:v1@sha256:` + strings.Repeat("a", 64) + `"}`, ok: true, want: "not the canonical form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rel := releaseOf(tc.raw)
			if tc.rel != nil {
				rel = *tc.rel
			}
			ref, ok, err := ParseReference([]byte(tc.raw), rel)
			switch {
			case ok != tc.ok:
				t.Fatalf("ok = %v, want %v (%v)", ok, tc.ok, err)
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			case tc.want == "" && ok && ref.String() != "reg.example:5000/acme/app@sha256:"+strings.Repeat("a", 64):
				t.Fatalf("reference %s", ref)
			}
		})
	}
}

// FuzzParseReference: whatever the control plane sends, a manifest
// accepted as a reference is the canonical JSON of an image pinned by
// digest, and the release's id and digest are its own.
func FuzzParseReference(f *testing.F) {
	f.Add([]byte(testReference))
	f.Add([]byte(`{"reference":"[::1]:5000/a/b@sha256:` + strings.Repeat("0", 64) + `"}`))
	f.Add([]byte(`{"records":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rel := releaseOf(string(raw))
		ref, ok, err := ParseReference(raw, rel)
		if !ok || err != nil {
			return
		}
		if want := `{"reference":"` + ref.Context().Name() + "@" + ref.DigestStr() + `"}`; string(raw) != want {
			t.Fatalf("accepted %q as %s", raw, ref)
		}
	})
}
