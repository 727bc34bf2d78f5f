package server

import (
	"strings"
	"testing"
)

const fuzzManifest = `{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[
{"name":"app","path":"app","digest":{"sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"size":1,"mediaType":"application/octet-stream","role":"artifact"},
{"name":"app.receipt","path":"app.receipt","digest":{"sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},"size":1,"mediaType":"text/plain; charset=utf-8","role":"receipt","describes":{"sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}]}`

// TestParseReleaseRequest: receipts and layout do not change a release's
// id; anything else does.
func TestParseReleaseRequest(t *testing.T) {
	t.Parallel()
	with, err := parseReleaseRequest([]byte(fuzzManifest))
	if err != nil {
		t.Fatal(err)
	}
	without := strings.Replace(fuzzManifest, `,
{"name":"app.receipt"`, `]}`+"\x00", 1)
	without = without[:strings.Index(without, "\x00")]
	w, err := parseReleaseRequest([]byte(without))
	if err != nil {
		t.Fatal(err)
	}
	if w.id != with.id || w.digest != with.digest || len(with.manifest.Records) != 1 {
		t.Fatalf("receipts changed the release: %s vs %s", w.id, with.id)
	}
	other, err := parseReleaseRequest([]byte(strings.Replace(fuzzManifest, `"size":1`, `"size":2`, 1)))
	if err != nil || other.id == with.id {
		t.Fatalf("another manifest, the same release id %q (%v)", other.id, err)
	}
	for _, bad := range []string{"", "{}", "[]", `{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[]}`, fuzzManifest + "{}"} {
		if _, err := parseReleaseRequest([]byte(bad)); err == nil {
			t.Errorf("parseReleaseRequest(%q) accepted it", bad)
		}
	}
}

func FuzzParseReleaseRequest(f *testing.F) {
	f.Add([]byte(fuzzManifest))
	f.Add([]byte(`{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[{"name":"../x","path":"../x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseReleaseRequest(body)
		if err != nil {
			return
		}
		if !releaseID.MatchString(req.id) || len(req.manifest.ByRole("artifact")) == 0 {
			t.Fatalf("accepted %q as release %q", body, req.id)
		}
		for _, r := range req.manifest.Records {
			if r.Role == "receipt" {
				t.Fatalf("receipt record %q kept", r.Name)
			}
		}
	})
}
