package server_test

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/token"
)

// requestAnswer is the JSON of a dispatch request, or a problem.
type requestAnswer struct {
	RequestID, ReleaseID, Requester, State, Decider, DispatchID, Detail string
	Type, Check                                                         string
}

func doRequest(t *testing.T, method, url, tok string, body any) (int, requestAnswer) {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	code, out, _ := do(t, method, url, tok, raw)
	var a requestAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("%s %s: %d %s: %v", method, url, code, out, err)
	}
	return code, a
}

// TestDispatchRequests runs against the machine's real Slurm cluster: a
// dispatch request is checked and recorded pending with nothing submitted
// or logged; a read-only token cannot ask, a dispatch token cannot
// approve, the requester cannot approve its own request even as an admin;
// another admin's approval authorizes and submits it (two log entries),
// a second decision is refused; the job's output tail and the dispatch
// list show it; a denied request submits nothing; a running job is
// cancelled through the API.
func TestDispatchRequests(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	site, rel, _ := slurmSite(t, c, slurmcli.New(slurmcli.Options{}), "requests", []byte("echo mcp-request-ran\n"))
	agent := site.token(t, "agent", token.Dispatch, token.Read, token.Admin)
	reader := site.token(t, "reader", token.Read)
	admin := site.token(t, "person", token.Admin, token.Read)
	base := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatch-requests"
	job := map[string]any{"script": "app.bin", "timeLimit": "2m", "cpusPerTask": 1, "mem": "256M"}
	size := treeSize(t, site)

	if code, a := doRequest(t, "POST", base, reader, map[string]any{"job": job}); code != http.StatusForbidden {
		t.Fatalf("a read-only token asked: %d %+v", code, a)
	}
	if code, a := doRequest(t, "POST", base, agent, map[string]any{"job": map[string]any{"script": "app.bin", "timeLimit": "10m"}}); code != http.StatusForbidden || a.Check != "maxTime" {
		t.Fatalf("a job over the limits: %d %+v, want 403 dispatch-limits maxTime", code, a)
	}
	code, q := doRequest(t, "POST", base, agent, map[string]any{"job": job, "reason": "nightly"})
	if code != http.StatusAccepted || q.State != "pending" || !strings.HasPrefix(q.Requester, "token:agent/") {
		t.Fatalf("request: %d %+v", code, q)
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("a pending request logged %d entries", got-size)
	}
	if out, _ := exec.Command("squeue", "-h", "-n", "slipway-"+rel.ReleaseID, "-o", "%i").CombinedOutput(); strings.TrimSpace(string(out)) != "" {
		t.Fatalf("a pending request has a job: %q", out)
	}
	code, list, _ := do(t, "GET", site.url+"/api/v1/dispatch-requests?state=pending", reader, nil)
	if code != http.StatusOK || !strings.Contains(string(list), q.RequestID) {
		t.Fatalf("pending list: %d %s", code, list)
	}
	approve := site.url + "/api/v1/dispatch-requests/" + q.RequestID + "/approve"
	for _, c := range []struct {
		name, tok, typ string
		status         int
	}{
		{"a dispatch token", reader, "forbidden", http.StatusForbidden},
		{"the requester, an admin too", agent, "self-approval", http.StatusForbidden},
	} {
		if code, a := doRequest(t, "POST", approve, c.tok, nil); code != c.status || a.Type != "urn:slipway:problem:"+c.typ {
			t.Errorf("approval by %s: %d %+v, want %d %s", c.name, code, a, c.status, c.typ)
		}
	}
	code, q = doRequest(t, "POST", approve, admin, map[string]any{"comment": "ok for tonight"})
	if code != http.StatusOK || q.State != "approved" || q.DispatchID == "" || !strings.HasPrefix(q.Decider, "token:person/") {
		t.Fatalf("approval: %d %+v", code, q)
	}
	if got := treeSize(t, site); got != size+2 {
		t.Fatalf("an approved request logged %d entries, want 2 (dispatch-authorized, dispatch-recorded)", got-size)
	}
	if code, a := doRequest(t, "POST", approve, admin, nil); code != http.StatusConflict || a.Type != "urn:slipway:problem:request-decided" {
		t.Errorf("a second approval: %d %+v", code, a)
	}
	var state struct{ State, JobID string }
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		_, body, _ := do(t, "GET", site.url+"/api/v1/dispatches/"+q.DispatchID, reader, nil)
		json.Unmarshal(body, &state)
		if state.State == "COMPLETED" || state.State == "FAILED" {
			break
		}
	}
	t.Cleanup(func() { exec.Command("scancel", state.JobID).Run() })
	code, tail, _ := do(t, "GET", site.url+"/api/v1/dispatches/"+q.DispatchID+"/log?lines=5", reader, nil)
	if state.State != "COMPLETED" || code != http.StatusOK || !strings.Contains(string(tail), "mcp-request-ran") {
		t.Fatalf("the approved job: %+v, its log tail %d %q", state, code, tail)
	}
	code, list, _ = do(t, "GET", site.url+"/api/v1/dispatches?release="+rel.ReleaseID, reader, nil)
	if code != http.StatusOK || !strings.Contains(string(list), q.DispatchID) {
		t.Fatalf("dispatch list: %d %s", code, list)
	}

	// A denied request submits nothing; a long job approved then cancelled ends CANCELLED.
	_, denied := doRequest(t, "POST", base, agent, map[string]any{"job": job})
	if code, a := doRequest(t, "POST", site.url+"/api/v1/dispatch-requests/"+denied.RequestID+"/deny", admin, nil); code != http.StatusOK || a.State != "denied" {
		t.Fatalf("deny: %d %+v", code, a)
	}
	_, long := doRequest(t, "POST", base, agent, map[string]any{"job": map[string]any{"command": "sleep 120", "timeLimit": "3m", "cpusPerTask": 1, "mem": "256M"}})
	_, long = doRequest(t, "POST", site.url+"/api/v1/dispatch-requests/"+long.RequestID+"/approve", admin, nil)
	if long.DispatchID == "" {
		t.Fatalf("long job not submitted: %+v", long)
	}
	cancel := site.url + "/api/v1/dispatches/" + long.DispatchID + "/cancel"
	if code, _, _ := do(t, "POST", cancel, reader, nil); code != http.StatusForbidden {
		t.Errorf("a read-only token cancelled: %d", code)
	}
	if code, body, _ := do(t, "POST", cancel, agent, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d %s", code, body)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		_, body, _ := do(t, "GET", site.url+"/api/v1/dispatches/"+long.DispatchID, reader, nil)
		json.Unmarshal(body, &state)
		if state.State == "CANCELLED" {
			return
		}
	}
	t.Fatalf("the cancelled job: %+v, want CANCELLED", state)
}
