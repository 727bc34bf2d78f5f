package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

// nextLink is a list page's link to its next page.
var nextLink = regexp.MustCompile(`href="([^"]+)" rel="next"`)

// recordDispatch records that a dispatcher submitted release as Slurm job
// jobID, as slipway dispatch does (an authorization, then the record),
// and returns the dispatch id and its log index.
func recordDispatch(t *testing.T, site *servertest.Site, tok, release, jobID string) (string, uint64) {
	t.Helper()
	post := func(path string, body any) map[string]any {
		raw, _ := json.Marshal(body)
		req, err := http.NewRequest("POST", site.URL+path, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return out
	}
	runID := fmt.Sprintf("slipway:v1:run=%s.1:job=run:release=%s:spec=00", jobID, release)
	fp := strings.Repeat("a", 64)
	auth := post("/api/v1/releases/"+release+"/dispatch-authorizations", map[string]string{"runId": runID, "fingerprint": fp, "cluster": "hpc1", "partition": "debug"})
	rec := post("/api/v1/releases/"+release+"/dispatches", map[string]string{"jobId": jobID, "runId": runID, "cluster": "hpc1", "partition": "debug",
		"authorizationId": auth["authorizationId"].(string), "fingerprint": fp})
	return rec["dispatchId"].(string), uint64(rec["logIndex"].(float64))
}

// TestJobPages: the jobs list shows recorded dispatches newest first in
// keyset pages and by release; a job's page shows where it ran, its log
// entry, why there is no output tail (a dispatcher's job), no outputs, and
// does not poll; its tail fragment is the fragment alone; the log entry of
// the dispatch links back to the job; unknown ids are 404.
func TestJobPages(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	rel := site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	other := site.Admit(t, []byte("app 2"), "git+https://github.com/acme/app")
	disp := site.Token(t, "hpc", 0, token.Dispatch, token.Read)
	first, firstIndex := recordDispatch(t, site, disp, rel.ReleaseID, "4711")
	second, _ := recordDispatch(t, site, disp, rel.ReleaseID, "4712")
	third, _ := recordDispatch(t, site, disp, other.ReleaseID, "4713")
	u := startUI(t, site, testKey, 2)
	u.login(t, site.Token(t, "person", 0, token.Read))

	code, body, _ := u.get(t, "/ui/jobs")
	if code != http.StatusOK || !strings.Contains(body, third) || !strings.Contains(body, second) || strings.Contains(body, first) ||
		!strings.Contains(body, "hpc1/debug") || !strings.Contains(body, "4713") || !strings.Contains(body, "recorded by a dispatcher") {
		t.Fatalf("/ui/jobs, first page of 2: %d\n%s", code, body)
	}
	next := nextLink.FindStringSubmatch(body)
	if next == nil {
		t.Fatalf("/ui/jobs has no next page link:\n%s", body)
	}
	code, body, _ = u.get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
	if code != http.StatusOK || !strings.Contains(body, first) || strings.Contains(body, third) || nextLink.MatchString(body) {
		t.Fatalf("/ui/jobs, second page: %d\n%s", code, body)
	}
	code, body, _ = u.get(t, "/ui/jobs?release="+other.ReleaseID)
	if code != http.StatusOK || !strings.Contains(body, third) || strings.Contains(body, first) || strings.Contains(body, second) {
		t.Fatalf("/ui/jobs of one release: %d\n%s", code, body)
	}

	code, body, _ = u.get(t, "/ui/jobs/"+first)
	for _, want := range []string{"4711", "hpc1/debug", `href="/ui/releases/` + rel.ReleaseID, fmt.Sprintf(`href="/ui/log/entries/%d"`, firstIndex),
		"its output is on the dispatcher's side", "No release was admitted as this job's outputs", `data-live="false"`} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("/ui/jobs/%s lacks %q:\n%s", first, want, body)
		}
	}
	if code != http.StatusOK || strings.Contains(body, "hx-trigger") || inlineCode.MatchString(body) {
		t.Errorf("/ui/jobs/%s: %d, polls or has inline code:\n%s", first, code, body)
	}
	code, body, _ = u.send(t, "GET", "/ui/jobs/"+first+"/tail", nil, map[string]string{"HX-Request": "true"})
	if code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<section id="job-tail"`) || strings.Contains(body, "<html") || strings.Contains(body, "hx-trigger") {
		t.Errorf("the tail fragment of an ended job: %d\n%s", code, body)
	}
	code, body, _ = u.get(t, fmt.Sprintf("/ui/log/entries/%d", firstIndex))
	if code != http.StatusOK || !strings.Contains(body, "dispatch-recorded") || !strings.Contains(body, `<a href="/ui/jobs/`+first+`">`) {
		t.Errorf("the dispatch's log entry: %d\n%s", code, body)
	}
	for path, want := range map[string]int{
		"/ui/jobs/d-0000000000000000":      http.StatusNotFound,
		"/ui/jobs/nope":                    http.StatusNotFound,
		"/ui/jobs/nope/tail":               http.StatusNotFound,
		"/ui/jobs?release=r-1":             http.StatusBadRequest,
		"/ui/jobs?page_token=not-a-cursor": http.StatusBadRequest,
	} {
		if code, body, _ := u.get(t, path); code != want {
			t.Errorf("%s: %d, want %d\n%s", path, code, want, body)
		}
	}
}

// TestJobOutputs: a job's page links the releases admitted as its outputs
// (slurm-dispatch provenance naming its Slurm job and release), and not
// the outputs of another job of the same release.
func TestJobOutputs(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	rel := site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	disp := site.Token(t, "hpc", 0, token.Dispatch, token.Read)
	id, _ := recordDispatch(t, site, disp, rel.ReleaseID, "4711")
	other, _ := recordDispatch(t, site, disp, rel.ReleaseID, "4712")
	out := site.AdmitOutputs(t, rel, 4711, []byte("result of 4711"))
	otherOut := site.AdmitOutputs(t, rel, 4712, []byte("result of 4712"))
	u := startUI(t, site, testKey, 0)
	u.login(t, site.Token(t, "person", 0, token.Read))
	for _, c := range []struct{ job, want, not string }{{id, out.ReleaseID, otherOut.ReleaseID}, {other, otherOut.ReleaseID, out.ReleaseID}} {
		code, body, _ := u.get(t, "/ui/jobs/"+c.job)
		if code != http.StatusOK || !strings.Contains(body, `<a href="/ui/releases/`+c.want+`">`) || strings.Contains(body, c.not) || !strings.Contains(body, "out.txt") {
			t.Errorf("/ui/jobs/%s: %d, want a link to outputs %s only:\n%s", c.job, code, c.want, body)
		}
	}
}
