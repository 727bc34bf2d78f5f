package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/token"
)

// refusing is a policy that requires passing tests: a release without a
// test result is refused after its provenance verified (so its refusal
// names its source repository).
const refusing = "tests: {required: true}\n"

type rejectionList struct {
	Rejections []struct {
		LogIndex       uint64    `json:"logIndex"`
		Created        time.Time `json:"created"`
		ReleaseID      string    `json:"releaseId"`
		ManifestDigest string    `json:"manifestDigest"`
		Repository     string    `json:"repository"`
		Uploader       string    `json:"uploader"`
		Check          string    `json:"check"`
		Subject        string    `json:"subject"`
		Detail         string    `json:"detail"`
	} `json:"rejections"`
	Next string `json:"next"`
}

func (l rejectionList) ids() string {
	var out []string
	for _, r := range l.Rejections {
		out = append(out, r.ReleaseID)
	}
	return strings.Join(out, ",")
}

// refuse sends a release of content from source, built by builder, with
// no test result, and returns the 422's answer (check tests, or the
// builder's when the policy does not allow it).
func refuse(t *testing.T, s *signer, site *site, tok, content, builder, source string) admission {
	t.Helper()
	dir := t.TempDir()
	s.release(t, dir, []byte(content), builder, source)
	code, a := admit(t, site.url, tok, uploadAll(t, site.url, tok, dir))
	if code != http.StatusUnprocessableEntity || (a.Check != "tests" && a.Check != "builder") {
		t.Fatalf("admission of %q: %d %+v, want 422", content, code, a)
	}
	time.Sleep(2 * time.Millisecond) // distinct times (milliseconds)
	return a
}

// TestRejections: every refused admission is listed, newest first, with
// the failed check, subject and detail the 422 answered and the log index
// of its entry; searched by repository and time, in keyset pages; an
// admitted release is not among them.
func TestRejections(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), refusing))
	up := site.token(t, "ci", token.Upload)
	app := refuse(t, s, site, up, "app 1", testBuilder, testSource)
	lib := refuse(t, s, site, up, "lib 1", testBuilder, "git+https://github.com/acme/lib")
	dir := t.TempDir()
	s.release(t, dir, []byte("app ok"), testBuilder, testSource)
	policytest.AddAttestation(t, dir, "manifest.json", s.kp, "app.bin.test-result.sigstore.json", policy.TestResultV01,
		policytest.TestResult("PASSED", "example.com/app/TestRun"))
	if code, a := admit(t, site.url, up, uploadAll(t, site.url, up, dir)); code != http.StatusCreated {
		t.Fatalf("admission: %d %+v", code, a)
	}
	evil := refuse(t, s, site, up, "app 2", "https://evil.example/builder", testSource)
	app2 := refuse(t, s, site, up, "app 3", testBuilder, testSource)
	reader := site.token(t, "reader", token.Read)
	get := func(query string) (int, rejectionList, []byte, http.Header) {
		code, body, hdr := do(t, "GET", site.url+"/api/v1/rejections"+query, reader, nil)
		var l rejectionList
		if code == http.StatusOK {
			if err := json.Unmarshal(body, &l); err != nil {
				t.Fatalf("GET %s: %v: %s", query, err, body)
			}
		}
		return code, l, body, hdr
	}

	_, all, body, _ := get("")
	if all.ids() != strings.Join([]string{app2.ReleaseID, evil.ReleaseID, lib.ReleaseID, app.ReleaseID}, ",") || all.Next != "" {
		t.Fatalf("rejections %s", body)
	}
	if r := all.Rejections[1]; r.Check != "builder" || r.Repository != "" {
		t.Errorf("a refusal before the provenance verified: %+v, want check builder and no repository", r)
	}
	got := all.Rejections[2]
	if got.LogIndex != lib.LogIndex || got.Check != "tests" || got.Subject != lib.Subject || got.Detail != lib.Detail ||
		got.Repository != "https://github.com/acme/lib" || !strings.HasPrefix(got.Uploader, "token:ci/") || !strings.HasPrefix(got.ManifestDigest, "sha256:") {
		t.Errorf("rejection %+v, want the 422's %+v", got, lib)
	}
	since := all.Rejections[2].Created.Format(time.RFC3339Nano)
	for _, tc := range []struct{ name, query, want string }{
		{"repository", "?repository=github.com/acme/app", app2.ReleaseID + "," + app.ReleaseID},
		{"repository URI", "?repository=https://github.com/acme/lib", lib.ReleaseID},
		{"since", "?since=" + since, app2.ReleaseID + "," + evil.ReleaseID + "," + lib.ReleaseID},
		{"until", "?until=" + since, app.ReleaseID},
	} {
		if code, l, body, _ := get(strings.ReplaceAll(tc.query, "+", "%2B")); code != http.StatusOK || l.ids() != tc.want {
			t.Errorf("%s: %d %s, want %s", tc.name, code, body, tc.want)
		}
	}
	var seen []string
	for next := "/api/v1/rejections?limit=1&repository=github.com/acme/app"; next != ""; {
		code, l, body, hdr := get(strings.TrimPrefix(next, "/api/v1/rejections"))
		if code != http.StatusOK || (l.Next != "" && hdr.Get("Link") != "<"+l.Next+`>; rel="next"`) {
			t.Fatalf("GET %s: %d %s %q", next, code, body, hdr.Get("Link"))
		}
		seen, next = append(seen, l.ids()), l.Next
	}
	if strings.Join(seen, ",") != app2.ReleaseID+","+app.ReleaseID {
		t.Errorf("pages %q", seen)
	}
	for _, tc := range []struct{ query, check string }{
		{"?digest=" + app.Manifest, "digest"},
		{"?limit=0", "limit"},
		{"?page_token=MS4xLnItMDEyMzQ1Njc4OWFiY2RlZg", "page_token"},   // a release list's token
		{"?page_token=MS4xLjk5OTk5OTk5OTk5OTk5OTk5OTk5", "page_token"}, // an index over 2^64
		{"?since=yesterday", "since"},
	} {
		code, _, body, _ := get(tc.query)
		var p struct{ Check string }
		json.Unmarshal(body, &p)
		if code != http.StatusBadRequest || p.Check != tc.check {
			t.Errorf("GET %s: %d %s, want 400 naming %q", tc.query, code, body, tc.check)
		}
	}
	if code, _, _ := do(t, "GET", site.url+"/api/v1/rejections", up, nil); code != http.StatusForbidden {
		t.Errorf("with an upload token: %d, want 403", code)
	}
}

// noRejections is a store that cannot record rejections.
type noRejections struct{ store.Store }

func (noRejections) CreateRejection(context.Context, store.Rejection) error {
	return errors.New("disk full")
}

// TestRejectionNotRecorded: a store that does not take the rejection's
// row changes nothing of the answer: 422 with the receipt of the entry the
// log holds; the failure is in the server's log.
func TestRejectionNotRecorded(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	logs := &logbuf.Buffer{}
	site := startSite(t, s.writePolicy(t, t.TempDir(), refusing), func(c *server.Config) {
		c.Store, c.Log = noRejections{c.Store}, slog.New(slog.NewJSONHandler(logs, nil))
	})
	a := refuse(t, s, site, site.token(t, "ci", token.Upload), "app 1", testBuilder, testSource)
	if rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt); rc.Index != a.LogIndex {
		t.Errorf("receipt of index %d, answer says %d", rc.Index, a.LogIndex)
	}
	if !strings.Contains(logs.String(), `"msg":"rejection not recorded in the store yet; the log holds its entry`) || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("the log does not say the row was not recorded:\n%s", logs)
	}
}
