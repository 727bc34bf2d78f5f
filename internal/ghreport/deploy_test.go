package ghreport_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/ghreport"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

func deployStates(gh *githubfake.Server) []string {
	gh.Lock()
	defer gh.Unlock()
	var out []string
	for _, d := range gh.Deployments {
		for _, s := range d.Statuses {
			out = append(out, s.State+": "+s.Description)
		}
	}
	return out
}

// TestDeployment: a job mirrored as a deployment goes queued (before
// submit), queued (pending in Slurm), in_progress (running), then success
// or failure; Observe never waits for GitHub, a final state seen by the
// follow loop is left to Finish, and a repeated state is posted once.
func TestDeployment(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		success bool
		end     string
		want    string
	}{
		{"completed", true, "Slurm job 7 completed with exit code 0", "success: Slurm job 7 completed with exit code 0"},
		{"failed", false, "Slurm job 7 ended FAILED with exit code 3", "failure: Slurm job 7 ended FAILED with exit code 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t, "octo", "app")
			ctx := context.Background()
			d, err := ghreport.StartDeployment(ctx, ghreport.DeploymentOptions{Client: newClient(t, gh), Repository: "octo/app",
				Ref: "0123456789abcdef0123456789abcdef01234567", Environment: "slurm-ci", Description: "release r-1 on slurm-ci",
				LogURL: "https://github.com/octo/app/actions/runs/1", Payload: map[string]string{"release": "r-1"}})
			if err != nil {
				t.Fatal(err)
			}
			d.Observe(ghreport.JobUpdate{ID: "7", State: "PENDING"})
			waitFor(t, gh, 2)
			d.Observe(ghreport.JobUpdate{ID: "7", State: "PENDING"})
			d.Observe(ghreport.JobUpdate{ID: "7", State: "RUNNING", Nodes: "node1"})
			waitFor(t, gh, 3)
			start := time.Now()
			for range 1000 {
				d.Observe(ghreport.JobUpdate{ID: "7", State: "RUNNING", Nodes: "node1"})
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("1000 Observe calls took %s: Observe must not wait for GitHub", took)
			}
			d.Observe(ghreport.JobUpdate{ID: "7", State: "COMPLETED", Final: true})
			if err := d.Finish(ctx, tt.success, tt.end); err != nil {
				t.Fatal(err)
			}
			got := deployStates(gh)
			want := []string{"queued: verifying the release before submitting to Slurm", "queued: Slurm job 7 pending", "in_progress: Slurm job 7 running on node1", tt.want}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("statuses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			gh.Lock()
			defer gh.Unlock()
			dep := gh.Deployments[0]
			if dep.Environment != "slurm-ci" || dep.Task != "slurm-dispatch" || !strings.Contains(string(dep.Payload), `"release":"r-1"`) {
				t.Errorf("deployment %+v", dep)
			}
		})
	}
}

// TestDeploymentRefused: GitHub's 422 on the deployment is an error
// before anything runs.
func TestDeploymentRefused(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	_, err := ghreport.StartDeployment(context.Background(), ghreport.DeploymentOptions{Client: newClient(t, gh), Repository: "octo/app", Ref: "", Environment: "x"})
	if err == nil || !strings.Contains(err.Error(), "no ref") {
		t.Fatalf("err = %v", err)
	}
	gh.Fail("POST /repos/octo/app/deployments", githubfake.Fault{Status: 422, Body: "validation_failed"})
	_, err = ghreport.StartDeployment(context.Background(), ghreport.DeploymentOptions{Client: newClient(t, gh), Repository: "octo/app", Ref: "main", Environment: "x"})
	if err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("err = %v, want GitHub's 422", err)
	}
}

func waitFor(t *testing.T, gh *githubfake.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(deployStates(gh)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("statuses %q, waited for %d", deployStates(gh), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeploymentFinishBounded: a status GitHub makes wait (Retry-After 60)
// does not hold Finish past its context.
func TestDeploymentFinishBounded(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	d, err := ghreport.StartDeployment(context.Background(), ghreport.DeploymentOptions{Client: newClient(t, gh), Repository: "octo/app", Ref: "main", Environment: "x"})
	if err != nil {
		t.Fatal(err)
	}
	gh.Fail("POST /repos/octo/app/deployments/"+strconv.FormatInt(d.ID(), 10)+"/statuses",
		githubfake.Fault{Status: 429, Body: "rate_limit_secondary", Header: map[string][]string{"Retry-After": {"60"}}})
	d.Observe(ghreport.JobUpdate{ID: "1", State: "RUNNING"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = d.Finish(ctx, true, "done")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Finish took %s, past its context", took)
	}
	if err == nil {
		t.Fatal("Finish hid the posts it gave up")
	}
}
