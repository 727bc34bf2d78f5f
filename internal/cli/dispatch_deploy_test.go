package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/githubfake"
)

// TestDispatchGitHubDeployment: slipway dispatch --github-deployment on
// the real Slurm mirrors each job as a GitHub Deployment of the run's
// commit: queued before submitting, in_progress while it runs (from the
// follow loop's state changes), then success, or failure naming the state
// and exit code; a deployment GitHub refuses stops the step before
// anything is submitted.
func TestDispatchGitHubDeployment(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	gh := githubfake.New(t, "octo", "app")
	for k, v := range map[string]string{"GITHUB_TOKEN": githubfake.Token, "GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "octo/app",
		"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_SERVER_URL": "https://github.com"} {
		s.env[k] = v
	}
	deploy := []string{"--github-deployment", "--github-environment", "hpc-ci"}
	for i, tt := range []struct {
		command string
		code    int
		last    string
	}{
		{"/bin/sh -c 'sleep 3; echo deployed'", 0, "success: Slurm job %s completed with exit code 0"},
		{"/bin/sh -c 'sleep 3; exit 3'", 1, "failure: Slurm job %s ended FAILED with exit code 3"},
	} {
		work := filepath.Join(s.cluster.Shared, "deploy-"+string(rune('a'+i)))
		code, out, text := s.dispatch(t, "cli", work, append([]string{"--command", tt.command}, deploy...)...)
		if code != tt.code || out["job-id"] == "" {
			t.Fatalf("dispatch %q: exit %d, want %d\n%s", tt.command, code, tt.code, text)
		}
		if strings.Contains(text, githubfake.Token) {
			t.Fatal("dispatch printed the GitHub token")
		}
		gh.Lock()
		dep := gh.Deployments[i]
		var states []string
		for _, st := range dep.Statuses {
			states = append(states, st.State+": "+st.Description)
		}
		gh.Unlock()
		joined := strings.Join(states, "\n")
		want := strings.Replace(tt.last, "%s", out["job-id"], 1)
		if dep.Environment != "hpc-ci" || dep.Ref != "0123456789abcdef0123456789abcdef01234567" || len(states) < 3 ||
			states[0] != "queued: verifying the release before submitting to Slurm" ||
			!strings.Contains(joined, "in_progress: Slurm job "+out["job-id"]+" running") || !strings.HasPrefix(states[len(states)-1], want) {
			t.Errorf("deployment %d (%s, %s) statuses:\n%s\nwant queued, in_progress, then %q", i, dep.Environment, dep.Ref, joined, want)
		}
	}
	gh.Fail("POST /repos/octo/app/deployments", githubfake.Fault{Status: 422, Body: "validation_failed"})
	code, _, text := s.dispatch(t, "cli", filepath.Join(s.cluster.Shared, "deploy-refused"), append([]string{"--command", "/bin/true"}, deploy...)...)
	if code != 2 || !strings.Contains(text, "nothing was submitted") {
		t.Fatalf("refused deployment: exit %d, want 2 saying nothing was submitted\n%s", code, text)
	}
}
