package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/slipway/actions/internal/timeouts"
)

// TestReleaseWorkflowNetworkLimits: the reusable release workflow's
// connect-timeout and timeout inputs reach every stage of both release
// jobs, as the environment variables the stages read.
func TestReleaseWorkflowNetworkLimits(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			WorkflowCall struct {
				Inputs map[string]any `yaml:"inputs"`
			} `yaml:"workflow_call"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Env   map[string]string `yaml:"env"`
			Steps []any             `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{timeouts.ConnectInput, timeouts.TimeoutInput} {
		if _, ok := wf.On.WorkflowCall.Inputs[in]; !ok {
			t.Errorf("release.yml has no %s input", in)
		}
	}
	want := map[string]string{
		timeouts.ConnectEnv: "${{ inputs." + timeouts.ConnectInput + " }}",
		timeouts.TimeoutEnv: "${{ inputs." + timeouts.TimeoutInput + " }}",
	}
	for _, job := range []string{"release-keyless", "release-key"} {
		j, ok := wf.Jobs[job]
		if !ok || len(j.Steps) == 0 {
			t.Errorf("release.yml has no job %s with steps", job)
			continue
		}
		for k, v := range want {
			if j.Env[k] != v {
				t.Errorf("job %s: env %s = %q, want %q", job, k, j.Env[k], v)
			}
		}
	}
}
