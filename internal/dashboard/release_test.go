package dashboard_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/dashboard"
	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

const (
	cdxSBOM = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[
 {"type":"library","name":"a","licenses":[{"license":{"id":"MIT"}}]},
 {"type":"library","name":"b","licenses":[{"license":{"id":"MIT"}}],"components":[{"type":"library","name":"b1","licenses":[{"expression":"Apache-2.0 OR MIT"}]}]},
 {"type":"library","name":"c"}]}`
	spdxSBOM = `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app","documentNamespace":"https://example.org/app",
 "creationInfo":{"created":"2026-12-05T00:00:00Z","creators":["Tool: test"]},
 "packages":[{"name":"x","SPDXID":"SPDXRef-x","downloadLocation":"NOASSERTION","licenseConcluded":"BSD-3-Clause"},
  {"name":"y","SPDXID":"SPDXRef-y","downloadLocation":"NOASSERTION","licenseConcluded":"NOASSERTION","licenseDeclared":"BSD-3-Clause"},
  {"name":"z","SPDXID":"SPDXRef-z","downloadLocation":"NOASSERTION"}]}`
)

// countingTransport counts the dashboard's API calls.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestReleaseDetail: a release's page shows its verification report
// check by check, signer, builder, source commit and ref from its
// provenance, both SBOMs' component counts and licenses, its files, its
// receipt and its log index; a second view reads the SBOMs and the
// provenance from the cache (two API calls); an unknown or malformed id
// is a 404 page.
func TestReleaseDetail(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	rel := site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app",
		servertest.File{Name: "app.cdx.json", Data: []byte(cdxSBOM), MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM},
		servertest.File{Name: "sboms/app.spdx.json", Data: []byte(spdxSBOM), MediaType: "application/spdx+json", Role: artifact.RoleSBOM})
	count := &countingTransport{}
	d, err := dashboard.New(dashboard.Options{Server: mustURL(t, site.URL), SessionKey: testKey,
		HTTP: &http.Client{Transport: count, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
	if err != nil {
		t.Fatal(err)
	}
	u := startUIWith(t, site, d)
	u.login(t, site.Token(t, "person", 0, token.Read))
	code, body, _ := u.get(t, "/ui/releases/"+rel.ReleaseID)
	if code != http.StatusOK {
		t.Fatalf("GET the release: %d\n%s", code, body)
	}
	for _, want := range []string{
		"https://github.com/acme/app",
		`<span class="mono commit">0123456789abcdef0123456789abcdef01234567</span> (refs/tags/v1)`,
		`<div class="mono builder">` + servertest.Builder + `</div>`,
		`<div class="signer">signed by key SHA256:`,
		`<tr class="ok"><td>PASS</td><td>signature</td><td class="mono">app.bin.sigstore.json</td>`,
		`<td>builder</td>`,
		`<td>uploader</td>`,
		"CycloneDX 1.6", `<td class="components">4</td>`, `<span class="license">MIT (2)</span>`, `<span class="license">Apache-2.0 OR MIT (1)</span>`, "none stated (1)",
		"SPDX-2.3", `<td class="components">3</td>`, `<span class="license">BSD-3-Clause (2)</span>`,
		"sboms/app.spdx.json",
		"c2sp.org/tlog-proof@v1",
		`href="/ui/log/entries/` + strconv.FormatUint(rel.LogIndex, 10) + `"`,
		rel.ManifestDigest,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the release page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
	before := count.n.Load()
	if code, _, _ := u.get(t, "/ui/releases/"+rel.ReleaseID); code != http.StatusOK {
		t.Fatalf("second view: %d", code)
	}
	if calls := count.n.Load() - before; calls != 2 {
		t.Errorf("the second view made %d API calls, want 2 (the release and its files; the summaries cached)", calls)
	}
	for path, want := range map[string]string{
		"/ui/releases/r-0000000000000000": "404",
		"/ui/releases/r-XYZ":              "a release id is r- and 16 hex digits",
		"/ui/releases/..%2Fidentity":      "a release id",
	} {
		code, body, _ := u.get(t, path)
		if code != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want 404 saying %q\n%s", path, code, want, body)
		}
	}
}
