package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/slurm/rest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// TestEnqueueDispatch runs against the machine's real Slurm cluster: a job
// over the policy's dispatch limits is refused (403 dispatch-limits naming
// the limit) and nothing is staged, submitted or logged; an allowed one is
// staged from the blob store, submitted with slipway exec-verified first,
// logged as dispatch-recorded, runs, and its end is reported. Both
// backends: Slurm's commands and slurmrestd.
func TestEnqueueDispatch(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	jwt := c.Token(t, 10*time.Minute)
	for name, b := range map[string]slurm.Backend{
		"cli":  slurmcli.New(slurmcli.Options{}),
		"rest": rest.New(rest.Options{URL: c.RESTURL, User: c.User, Token: func(context.Context) (string, error) { return jwt, nil }}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testEnqueue(t, c, b, name)
		})
	}
}

func testEnqueue(t *testing.T, c *slurmtest.Cluster, b slurm.Backend, name string) {
	site, rel, work := slurmSite(t, c, b, name, []byte("echo srv-dispatch-ran # "+name+"\n"))
	disp := site.token(t, "srv-dispatch", token.Dispatch, token.Read)
	url := site.url + "/api/v1/releases/" + rel.ReleaseID + "/dispatch"
	size := treeSize(t, site)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		check string
	}{
		{"time over maxTime", map[string]any{"command": "sh app.bin", "timeLimit": "10m"}, "maxTime"},
		{"no time limit", map[string]any{"command": "sh app.bin"}, "maxTime"},
		{"two nodes", map[string]any{"command": "sh app.bin", "timeLimit": 2, "nodes": 2}, "maxNodes"},
		{"a GPU", map[string]any{"command": "sh app.bin", "timeLimit": 2, "gpus": "1"}, "maxGPUs"},
		{"another partition", map[string]any{"command": "sh app.bin", "timeLimit": 2, "partition": "srv-gpu"}, "partition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := postJSON(t, url, disp, tc.body)
			if code != http.StatusForbidden || a.Type != "urn:slipway:problem:dispatch-limits" || a.Check != tc.check || !strings.Contains(a.Detail, "nothing was submitted") {
				t.Fatalf("%d %+v, want 403 dispatch-limits check %q", code, a, tc.check)
			}
		})
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Fatalf("refused requests staged %d directories in the workdir", len(entries))
	}
	if out, err := exec.Command("squeue", "-h", "-n", "slipway-"+rel.ReleaseID, "-o", "%i").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("squeue after refused requests: %q %v, want no job", out, err)
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("refused requests logged %d entries", got-size)
	}

	code, a := postJSON(t, url, disp, map[string]any{"script": "app.bin", "timeLimit": "2m", "cpusPerTask": 1, "mem": "256M"})
	if code != http.StatusAccepted || a.JobID == "" || !a.Submitted || a.Partition != c.Partition {
		t.Fatalf("allowed request: %d %+v", code, a)
	}
	t.Cleanup(func() { exec.Command("scancel", a.JobID).Run() })
	rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt)
	if e, err := entry.Parse(rc.Entry); err != nil || e.Kind != entry.KindDispatchRecorded || e.Dispatch.JobID != a.JobID ||
		e.Dispatch.Authorization == "" || e.Dispatch.Authorization != a.AuthorizationID || len(e.Dispatch.Fingerprint) != 64 {
		t.Fatalf("log entry %+v: %v, want the job recorded under its authorization", e, err)
	}
	if got := treeSize(t, site); got != size+2 {
		t.Fatalf("an enqueued job logged %d entries, want 2 (dispatch-authorized, then dispatch-recorded)", got-size)
	}
	read := site.token(t, "srv-reader", token.Read)
	deadline := time.Now().Add(2 * time.Minute)
	var got struct {
		State    string
		Node     string
		ExitCode *int
		Elapsed  string
		Ended    *time.Time
	}
	for time.Now().Before(deadline) {
		code, body, _ := do(t, "GET", site.url+"/api/v1/dispatches/"+a.DispatchID, read, nil)
		if code != http.StatusOK {
			t.Fatalf("GET dispatch: %d %s", code, body)
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.State == "COMPLETED" || got.State == "FAILED" || got.State == "CANCELLED" || got.State == "TIMEOUT" || got.State == "UNKNOWN" {
			break
		}
		if got.Ended != nil {
			t.Fatalf("a %s job's answer says it ended at %v (Slurm's end_time of a running job is when its time limit runs out)", got.State, got.Ended)
		}
		got.Ended = nil
		time.Sleep(300 * time.Millisecond)
	}
	if got.State != "COMPLETED" || got.ExitCode == nil || *got.ExitCode != 0 || got.Elapsed == "" || got.Node == "" {
		logs, _ := filepath.Glob(filepath.Join(work, "*", ".slipway", "job-"+a.JobID+".*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b)
		}
		t.Fatalf("the job's end: %+v, want COMPLETED with exit code 0 on a node", got)
	}
	out, _ := filepath.Glob(filepath.Join(work, "*", ".slipway", "job-"+a.JobID+".out"))
	if len(out) != 1 {
		t.Fatalf("job stdout files: %q", out)
	}
	if b, _ := os.ReadFile(out[0]); !strings.Contains(string(b), "srv-dispatch-ran") {
		t.Fatalf("the job's stdout %q does not show the release ran", b)
	}
}

// slurmSite starts a site submitting to c through b, its work directory
// under c's shared one (named name), a policy allowing jobs of at most 5
// minutes on one node of c's partition, and one release admitted whose
// artifact app.bin holds content; jobs run this test binary as slipway.
func slurmSite(t *testing.T, c *slurmtest.Cluster, b slurm.Backend, name string, content []byte) (*site, admission, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(c.Shared, name)
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	slipway := filepath.Join(shared, "slipway")
	if err := os.WriteFile(slipway, []byte("#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(shared, "srv-jobs")
	s := newSigner(t)
	pol := s.writePolicy(t, t.TempDir(), `dispatch:
  - repositories: [`+testSource+`]
    partitions: [`+c.Partition+`]
    maxTime: 5m
    maxNodes: 1
    maxGPUs: 0
`)
	site, rel := admittedContent(t, s, pol, content, func(cfg *server.Config) {
		cfg.Slurm = &server.SlurmConfig{Backend: b, WorkDir: work, Partition: c.Partition, Slipway: slipway}
	})
	return site, rel, work
}
