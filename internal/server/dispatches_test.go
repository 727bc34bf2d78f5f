package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// dispatchAnswer is the JSON of a dispatch and of a problem.
type dispatchAnswer struct {
	DispatchID, AuthorizationID, Fingerprint, ReleaseID, JobID, RunID, Cluster, Partition, BuilderID, Requester, Receipt, State string
	LogIndex                                                                                                                    uint64
	ExitCode                                                                                                                    *int
	Submitted                                                                                                                   bool
	// problem fields
	Type, Detail, Check string
}

func postJSON(t testing.TB, url, tok string, v any) (int, dispatchAnswer) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	code, raw, _ := do(t, "POST", url, tok, body)
	var a dispatchAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("POST %s: %d %s: %v", url, code, raw, err)
	}
	return code, a
}

// admitted starts a site on pol and admits one release; it returns the
// site, the release's answer and a token of scopes upload and read.
func admitted(t *testing.T, s *signer, pol string, opts ...func(*server.Config)) (*site, admission) {
	t.Helper()
	return admittedContent(t, s, pol, []byte("the job's program"), opts...)
}

// admittedContent is admitted with the artifact's content.
func admittedContent(t *testing.T, s *signer, pol string, content []byte, opts ...func(*server.Config)) (*site, admission) {
	t.Helper()
	site := startSite(t, pol, opts...)
	tok := site.token(t, "ci", token.Upload, token.Read)
	dir := t.TempDir()
	s.release(t, dir, content, testBuilder, testSource)
	code, rel := admit(t, site.url, tok, uploadAll(t, site.url, tok, dir))
	if code != http.StatusCreated {
		t.Fatalf("admission: %d %+v", code, rel)
	}
	return site, rel
}

// TestRecordDispatch: a dispatcher's record of its job is logged as a
// dispatch-recorded entry whose receipt verifies; the same record again is
// the first answer with nothing logged; other values for the same job are
// a conflict; the scope, the release and the fields are checked.
func TestRecordDispatch(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site, rel := admitted(t, s, s.writePolicy(t, t.TempDir(), ""))
	disp := site.token(t, "hpc-dispatch", token.Dispatch, token.Read)
	url := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatches"
	runID := "slipway:v1:run=123.1:job=run:release=" + rel.ReleaseID + ":spec=0123456789abcdef"
	auth := authorize(t, site, rel.ReleaseID, disp, map[string]any{"runId": runID, "fingerprint": fingerprintA, "cluster": "hpc1",
		"partition": "debug", "builderId": "https://hpc.example/runner"})
	body := map[string]string{"jobId": "4711", "cluster": "hpc1", "partition": "debug", "runId": runID, "builderId": "https://hpc.example/runner",
		"authorizationId": auth.AuthorizationID, "fingerprint": fingerprintA}

	code, first := postJSON(t, url, disp, body)
	if code != http.StatusCreated || !strings.HasPrefix(first.DispatchID, "d-") || first.JobID != "4711" || first.Submitted {
		t.Fatalf("first record: %d %+v", code, first)
	}
	rc := checkReceipt(t, site.tl.VerifierKey(), first.Receipt)
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != entry.KindDispatchRecorded || e.Release != rel.ReleaseID || e.Dispatch == nil || e.Dispatch.ID != first.DispatchID ||
		e.Dispatch.JobID != "4711" || e.Dispatch.Cluster != "hpc1" || e.Dispatch.Partition != "debug" || e.Dispatch.RunID != runID ||
		!strings.HasPrefix(e.Uploader, "token:hpc-dispatch/") || len(e.Artifacts) != 1 || rc.Index != first.LogIndex ||
		e.Dispatch.Authorization != auth.AuthorizationID || e.Dispatch.Fingerprint != fingerprintA || first.AuthorizationID != auth.AuthorizationID {
		t.Fatalf("entry = %+v (dispatch %+v)", e, e.Dispatch)
	}
	if strings.Contains(string(rc.Entry), disp) {
		t.Fatal("the log entry holds the token")
	}
	size := treeSize(t, site)
	code, again := postJSON(t, url, disp, body)
	if code != http.StatusOK || again.DispatchID != first.DispatchID || again.Receipt != first.Receipt || again.LogIndex != first.LogIndex {
		t.Fatalf("the same record again: %d %+v, want 200 and the first answer", code, again)
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("the log grew from %d to %d entries on a repeated record", size, got)
	}
	read := site.token(t, "reader", token.Read)
	rawCode, raw, _ := do(t, "GET", site.url+"/api/v1/dispatches/"+first.DispatchID, read, nil)
	if rawCode != http.StatusOK || !strings.Contains(string(raw), `"receipt"`) || !strings.Contains(string(raw), first.DispatchID) {
		t.Fatalf("GET dispatch: %d %s", rawCode, raw)
	}

	other := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range body {
			m[a] = b
		}
		m[k] = v
		return m
	}
	upload := site.token(t, "uploader", token.Upload, token.Read)
	another := site.token(t, "another-dispatcher", token.Dispatch, token.Read)
	unauthorized := other("authorizationId", "a-00000000000000ff")
	unauthorized["jobId"] = "4712"
	otherSpec := other("fingerprint", fingerprintB)
	otherSpec["jobId"] = "4713"
	otherRun := other("runId", runID+"x")
	otherRun["jobId"] = "4714"
	byAnother := other("jobId", "4715")
	for _, tc := range []struct {
		name  string
		url   string
		tok   string
		body  any
		code  int
		check string
	}{
		{"another partition than authorized", url, disp, other("partition", "gpu"), http.StatusForbidden, "partition"},
		{"no dispatch scope", url, upload, body, http.StatusForbidden, ""},
		{"no token", url, "", body, http.StatusUnauthorized, ""},
		{"unknown release", site.url + "/api/v1/releases/r-0000000000000000/dispatches", disp, body, http.StatusNotFound, ""},
		{"not a release id", site.url + "/api/v1/releases/nope/dispatches", disp, body, http.StatusNotFound, ""},
		{"job id not decimal", url, disp, other("jobId", "47x"), http.StatusBadRequest, "jobId"},
		{"job id missing", url, disp, other("jobId", ""), http.StatusBadRequest, "jobId"},
		{"run id with a space", url, disp, other("runId", "run 1"), http.StatusBadRequest, "runId"},
		{"partition with a shell character", url, disp, other("partition", "debug;id"), http.StatusBadRequest, "partition"},
		{"builder id with a newline", url, disp, other("builderId", "https://x\nevil"), http.StatusBadRequest, "builderId"},
		{"unknown field", url, disp, map[string]any{"jobId": "1", "runId": "r", "token": "x"}, http.StatusBadRequest, ""},
		{"no authorization id", url, disp, other("authorizationId", ""), http.StatusBadRequest, "authorizationId"},
		{"no fingerprint", url, disp, other("fingerprint", ""), http.StatusBadRequest, "fingerprint"},
		{"an authorization never given", url, disp, unauthorized, http.StatusForbidden, "authorization"},
		{"another job spec than authorized", url, disp, otherSpec, http.StatusForbidden, "fingerprint"},
		{"the authorization of another run", url, disp, otherRun, http.StatusForbidden, "authorization"},
		{"another identity than authorized", url, another, byAnother, http.StatusForbidden, "requester"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := postJSON(t, tc.url, tc.tok, tc.body)
			if code != tc.code || a.Check != tc.check {
				t.Fatalf("%d %+v, want %d check %q", code, a, tc.code, tc.check)
			}
		})
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("refused records logged %d entries", got-size)
	}
}

// TestRecordDispatchOIDC: an OIDC identity (which holds no dispatch scope)
// may record dispatches of the releases the uploader rules let it publish,
// and no others; its token is then used up.
func TestRecordDispatchOIDC(t *testing.T) {
	t.Parallel()
	const aud = "https://slipway.example.org"
	iss := sigstoretest.StartOIDCIssuer(t, "")
	is, err := idtoken.NewIssuers([]string{iss.URL}, idtoken.Config{Audience: aud})
	if err != nil {
		t.Fatal(err)
	}
	s := newSigner(t)
	pol := s.writePolicy(t, t.TempDir(), `uploaders:
  - name: release
    oidc: {issuer: "`+iss.URL+`", repositoryID: "123456"}
    repositories: [`+testSource+`]
  - name: ci
    token: ci
    repositories: [`+testSource+`]
`)
	site, rel := admitted(t, s, pol, func(c *server.Config) { c.OIDC = is })
	url := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatches"
	job := func(extra map[string]any) string {
		return iss.JobToken(t, "acme/app", ".github/workflows/hpc.yml", aud, extra)
	}
	runID := "slipway:v1:run=9.1:job=hpc:release=" + rel.ReleaseID + ":spec=00"
	authURL := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatch-authorizations"
	size := treeSize(t, site)
	if code, a := postJSON(t, authURL, job(map[string]any{"repository_id": "999"}), map[string]string{"runId": runID, "fingerprint": fingerprintA}); code != http.StatusForbidden || !strings.Contains(a.Detail, `repository_id "999"`) {
		t.Fatalf("authorizing a job of another repository: %d %+v, want 403 naming the claim", code, a)
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("a refused authorization logged %d entries", got-size)
	}
	auth := authorize(t, site, rel.ReleaseID, job(nil), map[string]any{"runId": runID, "fingerprint": fingerprintA})
	body := map[string]string{"jobId": "17", "runId": runID, "authorizationId": auth.AuthorizationID, "fingerprint": fingerprintA}
	if code, a := postJSON(t, url, job(map[string]any{"repository_id": "999"}), body); code != http.StatusForbidden || !strings.Contains(a.Detail, `repository_id "999"`) {
		t.Fatalf("a job of another repository: %d %+v, want 403 naming the claim", code, a)
	}
	tok := job(nil)
	code, a := postJSON(t, url, tok, body)
	if code != http.StatusCreated || !strings.HasPrefix(a.Requester, "oidc:acme/app:") {
		t.Fatalf("a job of the release's repository: %d %+v", code, a)
	}
	body["jobId"] = "18"
	if code, a := postJSON(t, url, tok, body); code != http.StatusUnauthorized || a.Check != idtoken.CheckReplay {
		t.Fatalf("the same token again for another job: %d %+v, want 401 check jti", code, a)
	}
}
