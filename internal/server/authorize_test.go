package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

const (
	fingerprintA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	fingerprintB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// authorize asks for an authorization the test expects to be given (201
// or 200).
func authorize(t *testing.T, site *site, release, tok string, body map[string]any) dispatchAnswer {
	t.Helper()
	code, a := postJSON(t, site.url+"/api/v1/releases/"+release+"/dispatch-authorizations", tok, body)
	if (code != http.StatusCreated && code != http.StatusOK) || !strings.HasPrefix(a.AuthorizationID, "a-") {
		t.Fatalf("authorizing %v: %d %+v", body, code, a)
	}
	return a
}

// TestAuthorizeDispatch: before a dispatcher submits, the server
// authorizes the job: a dispatch-authorized entry (fingerprint, run id,
// cluster, who asked) whose receipt verifies; the same request again is
// the first answer with nothing logged (a re-run reuses it); another
// identity or another job spec under the same run is refused; a job over
// the policy's dispatch limits, a token without the dispatch scope and bad
// fields are refused with nothing logged.
func TestAuthorizeDispatch(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site, rel := admitted(t, s, s.writePolicy(t, t.TempDir(), `dispatch:
  - repositories: [`+testSource+`]
    partitions: [debug]
    maxTime: 30m
    maxGPUs: 0
`))
	disp := site.token(t, "hpc-dispatch", token.Dispatch, token.Read)
	url := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatch-authorizations"
	runID := "slipway:v1:run=77.1:job=run:release=" + rel.ReleaseID + ":spec=aaaaaaaaaaaaaaaa"
	body := map[string]any{"runId": runID, "fingerprint": fingerprintA, "cluster": "hpc1", "partition": "debug", "timeLimit": "10m",
		"builderId": "https://hpc.example/runner"}

	code, first := postJSON(t, url, disp, body)
	if code != http.StatusCreated || !strings.HasPrefix(first.AuthorizationID, "a-") || first.Fingerprint != fingerprintA || first.RunID != runID {
		t.Fatalf("first authorization: %d %+v", code, first)
	}
	rc := checkReceipt(t, site.tl.VerifierKey(), first.Receipt)
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != entry.KindDispatchAuthorized || e.Decision != entry.DecisionAuthorized || e.Release != rel.ReleaseID || e.Dispatch == nil ||
		e.Dispatch.Authorization != first.AuthorizationID || e.Dispatch.Fingerprint != fingerprintA || e.Dispatch.RunID != runID ||
		e.Dispatch.Cluster != "hpc1" || e.Dispatch.JobID != "" || !strings.HasPrefix(e.Uploader, "token:hpc-dispatch/") || rc.Index != first.LogIndex {
		t.Fatalf("entry = %+v (dispatch %+v)", e, e.Dispatch)
	}
	if strings.Contains(string(rc.Entry), disp) {
		t.Fatal("the log entry holds the token")
	}
	size := treeSize(t, site)
	if code, again := postJSON(t, url, disp, body); code != http.StatusOK || again.AuthorizationID != first.AuthorizationID || again.Receipt != first.Receipt {
		t.Fatalf("the same authorization again: %d %+v, want 200 and the first answer", code, again)
	}

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range body {
			m[a] = b
		}
		m[k] = v
		return m
	}
	another := site.token(t, "another-dispatcher", token.Dispatch, token.Read)
	upload := site.token(t, "uploader", token.Upload, token.Read)
	for _, tc := range []struct {
		name, tok string
		body      map[string]any
		code      int
		check     string
	}{
		{"another identity, the same run", another, body, http.StatusForbidden, "requester"},
		{"another job spec, the same run", disp, with("fingerprint", fingerprintB), http.StatusConflict, "fingerprint"},
		{"another cluster, the same run", disp, with("cluster", "hpc2"), http.StatusConflict, "cluster"},
		{"over maxTime", disp, with("runId", runID+"-long"), 0, ""},
		{"a partition the policy does not allow", disp, with("partition", "gpu"), http.StatusForbidden, "partition"},
		{"a GPU", disp, with("gpus", "1"), http.StatusForbidden, "maxGPUs"},
		{"no dispatch scope", upload, body, http.StatusForbidden, ""},
		{"fingerprint not hex", disp, with("fingerprint", "sha256:"+fingerprintA[:57]), http.StatusBadRequest, "fingerprint"},
		{"run id with a space", disp, with("runId", "run 1"), http.StatusBadRequest, "runId"},
		{"bad time limit", disp, with("timeLimit", "soon"), http.StatusBadRequest, "timeLimit"},
		{"unknown field", disp, with("token", "x"), http.StatusBadRequest, ""},
	} {
		if tc.code == 0 {
			tc.body["timeLimit"], tc.code, tc.check = "2h", http.StatusForbidden, "maxTime"
		}
		t.Run(tc.name, func(t *testing.T) {
			code, a := postJSON(t, url, tc.tok, tc.body)
			if code != tc.code || a.Check != tc.check {
				t.Fatalf("%d %+v, want %d check %q", code, a, tc.code, tc.check)
			}
		})
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("repeated and refused authorizations logged %d entries", got-size)
	}
}
