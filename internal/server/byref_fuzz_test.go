package server

import (
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
)

const fuzzReference = `{"reference":"ghcr.io/acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`

// TestParseReferenceRequest: one image pinned by digest, however spelled,
// is one release; a tag, another digest algorithm or extra fields are
// refused with what to send instead.
func TestParseReferenceRequest(t *testing.T) {
	t.Parallel()
	first, err := parseReferenceRequest([]byte(fuzzReference))
	if err != nil {
		t.Fatal(err)
	}
	rec := first.manifest.Records[0]
	if rec.Name != "ghcr.io/acme/app" || rec.URI != "ghcr.io/acme/app@sha256:"+strings.Repeat("a", 64) || rec.Role != artifact.RoleArtifact || first.image.String() != rec.URI {
		t.Fatalf("record = %+v, image %s", rec, first.image)
	}
	for _, same := range []string{
		`{"reference": "ghcr.io/acme/app:v1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
		" " + fuzzReference + "\n",
	} {
		if r, err := parseReferenceRequest([]byte(same)); err != nil || r.id != first.id {
			t.Errorf("parseReferenceRequest(%q) = %v, %v; want release %s", same, r, err, first.id)
		}
	}
	if r, err := parseReferenceRequest([]byte(strings.Replace(fuzzReference, "acme/app", "acme/other", 1))); err != nil || r.id == first.id {
		t.Errorf("another repository: %v, %v; want another release", r, err)
	}
	for bad, want := range map[string]string{
		``:                                    "is not",
		`{}`:                                  "the reference is empty",
		`{"reference":"ghcr.io/acme/app:v1"}`: "names a tag, which can move",
		`{"reference":"acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`:               "",
		`{"reference":"ghcr.io/acme/app@sha512:` + strings.Repeat("a", 128) + `"}`:                                       "sha256",
		`{"reference":"ghcr.io/acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","x":1}`: "unknown field",
		fuzzReference + fuzzReference: "more than one JSON value",
	} {
		_, err := parseReferenceRequest([]byte(bad))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseReferenceRequest(%q) = %v, want an error with %q", bad, err, want)
		}
	}
}

func FuzzParseReferenceRequest(f *testing.F) {
	f.Add([]byte(fuzzReference))
	f.Add([]byte(`{"reference":"localhost:5000/a:b@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`))
	f.Add([]byte(`{"reference":"[::1]:5000/a/b/c@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseReferenceRequest(body)
		if err != nil {
			return
		}
		if !releaseID.MatchString(req.id) || len(req.manifest.Records) != 1 {
			t.Fatalf("accepted %q as release %q", body, req.id)
		}
		rec := req.manifest.Records[0]
		if rec.URI != req.image.String() || rec.URI != rec.Name+"@"+rec.Digest.String() {
			t.Fatalf("accepted %q as record %+v of image %s", body, rec, req.image)
		}
		again, err := parseReferenceRequest([]byte(`{"reference":"` + rec.URI + `"}`))
		if err != nil || again.id != req.id {
			t.Fatalf("%q: its normal form %q is release %v (%v), not %s", body, rec.URI, again, err, req.id)
		}
	})
}
