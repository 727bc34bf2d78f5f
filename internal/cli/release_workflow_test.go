package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// TestReleaseWorkflowUpload: with the server input, both release jobs run
// mcp-upload after the last attestation of the files and before the push
// (a release the control plane refuses is never pushed; its receipts are
// pushed with it), only when server is set; the slipway-token secret goes
// to the upload's token input and nowhere else (the inputs check only
// tests that it is set); and the upload's outputs reach the workflow's.
func TestReleaseWorkflowUpload(t *testing.T) {
	wf := readReleaseWorkflow(t)
	call := wf.On.WorkflowCall
	for _, in := range []string{"server", "server-audience"} {
		if _, ok := call.Inputs[in]; !ok {
			t.Errorf("release.yml has no %s input", in)
		}
	}
	if _, ok := call.Secrets["slipway-token"]; !ok {
		t.Error("release.yml has no slipway-token secret")
	}
	outputs := []string{"release-id", "log-index", "receipt"}
	for _, o := range outputs {
		if got, want := call.Outputs[o].Value, "${{ jobs.result.outputs."+o+" }}"; got != want {
			t.Errorf("workflow output %s = %q, want %q", o, got, want)
		}
		if !strings.Contains(wf.Jobs["result"].Outputs[o], "steps.pick.outputs."+o) {
			t.Errorf("job result's output %s = %q", o, wf.Jobs["result"].Outputs[o])
		}
	}
	for _, job := range []string{"release-keyless", "release-key"} {
		j := wf.Jobs[job]
		upload, push, lastAttest := -1, -1, -1
		for i, s := range j.Steps {
			switch {
			case s.Uses == "slipway/actions/actions/mcp-upload@v1":
				upload = i
			case s.ID == "push":
				push = i
			case s.Uses == "slipway/actions/actions/attest@v1" && s.With["image"] == "":
				lastAttest = i
			}
			for where, v := range map[string]map[string]string{"env": s.Env, "with": s.With} {
				for k, x := range v {
					if !strings.Contains(x, "secrets.slipway-token") {
						continue
					}
					ok := where == "with" && k == "token" && i == upload ||
						where == "env" && k == "HAS_UPLOAD_TOKEN" && x == "${{ secrets.slipway-token != '' }}"
					if !ok {
						t.Errorf("job %s step %d hands secrets.slipway-token to %s.%s", job, i+1, where, k)
					}
				}
			}
			if strings.Contains(s.Run, "secrets.slipway-token") {
				t.Errorf("job %s step %d has secrets.slipway-token in its script", job, i+1)
			}
		}
		if upload < 0 || !(lastAttest < upload && upload < push) {
			t.Fatalf("job %s: mcp-upload at step %d, want it after the last attestation (%d) and before the push (%d)", job, upload+1, lastAttest+1, push+1)
		}
		u := j.Steps[upload]
		if u.ID != "upload" || u.If != "inputs.server != ''" {
			t.Errorf("job %s: the upload step has id %q and if %q, want id upload, if inputs.server != ''", job, u.ID, u.If)
		}
		want := map[string]string{
			"server": "${{ inputs.server }}", "token": "${{ secrets.slipway-token }}",
			"audience": "${{ inputs.server-audience }}", "manifest": "${{ steps.build.outputs.manifest }}",
		}
		for k, v := range want {
			if u.With[k] != v {
				t.Errorf("job %s: upload with.%s = %q, want %q", job, k, u.With[k], v)
			}
		}
		for _, o := range outputs {
			if got, want := j.Outputs[o], "${{ steps.upload.outputs."+o+" }}"; got != want {
				t.Errorf("job %s: output %s = %q, want %q", job, o, got, want)
			}
		}
	}
}

// TestReleaseWorkflowScripts runs two run: scripts of the release job with
// bash, as the runner does: the inputs check refuses server with signing:
// key and no slipway-token before the build (that job cannot request ID
// tokens); the files step pushes the receipt beside each artifact when the
// release was uploaded, fails when one is missing, and lists none without a
// server.
func TestReleaseWorkflowScripts(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	script := func(name string) string {
		for _, s := range wf.Jobs["release-keyless"].Steps {
			if s.Name == name {
				return s.Run
			}
		}
		t.Fatalf("release-keyless has no step %q", name)
		return ""
	}
	run := func(t *testing.T, dir, script string, env ...string) (int, string, string) {
		out := filepath.Join(dir, "github_output")
		cmd := exec.Command(bash, "-e", "-c", script)
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GITHUB_OUTPUT=" + out}, env...)
		log, err := cmd.CombinedOutput()
		if _, ok := err.(*exec.ExitError); err != nil && !ok {
			t.Fatal(err)
		}
		outputs, _ := os.ReadFile(out)
		return cmd.ProcessState.ExitCode(), string(log), string(outputs)
	}

	check := script("Check the inputs")
	const noToken = "server with signing: key needs the slipway-token secret"
	const outside = "leaves the workspace"
	for _, tc := range []struct {
		name, signing, server, hasToken, scanDB, cacheKey string
		fails                                             string // "" for success
	}{
		{"no server", "key", "", "false", "", "", ""},
		{"key with a token", "key", "https://slipway.example.org", "true", "", "", ""},
		{"key without a token", "key", "https://slipway.example.org", "false", "", "", noToken},
		{"keyless without a token", "keyless", "https://slipway.example.org", "false", "", "", ""},
		{"scan-db in the workspace", "key", "", "false", "ci/grype-db", "grype-db-1", ""},
		{"scan-db on the runner", "key", "", "false", "/srv/grype-db", "", ""},
		{"scan-db on the runner with a cache key", "key", "", "false", "/srv/grype-db", "grype-db-1", "scan-db-cache-key needs scan-db"},
		{"scan-db above the workspace", "key", "", "false", "ci/../../grype-db", "", outside},
		{"scan-db-cache-key without scan-db", "key", "", "false", "", "grype-db-1", "scan-db-cache-key needs scan-db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, log, _ := run(t, t.TempDir(), check, "BUILD_MODE=runner", "HAS_KEY=true", "SIGNING="+tc.signing,
				"BUILDER_ID=", "RUNNER_ENVIRONMENT=github-hosted", "SERVER="+tc.server, "HAS_UPLOAD_TOKEN="+tc.hasToken,
				"SCAN_DB="+tc.scanDB, "SCAN_DB_CACHE_KEY="+tc.cacheKey)
			if (code == 0) != (tc.fails == "") || tc.fails != "" && !strings.Contains(log, "::error title=slipway release::") || !strings.Contains(log, tc.fails) {
				t.Errorf("exit %d, log %q; want success %t (%q)", code, log, tc.fails == "", tc.fails)
			}
		})
	}

	files := script("List the release's files")
	for _, tc := range []struct {
		name, uploaded string
		receipts       []string // written beside the artifacts
		want           []string // the files listed, nil: the step fails
		env            []string // more of the step's environment
	}{
		{"not uploaded", "false", nil, []string{"dist/a", "dist/b", "dist/manifest.json", "dist/subjects.sha256"}, nil},
		{"tested and scanned", "false", nil, []string{"dist/a", "dist/b", "dist/manifest.json", "dist/manifest.test-result.sigstore.json",
			"dist/manifest.vulns.sigstore.json", "dist/subjects.sha256"},
			[]string{"TEST_ATTESTATION=dist/manifest.test-result.sigstore.json", "SCAN_ATTESTATION=dist/manifest.vulns.sigstore.json"}},
		{"uploaded", "true", []string{"dist/a.receipt", "dist/b.receipt"},
			[]string{"dist/a", "dist/a.receipt", "dist/b", "dist/b.receipt", "dist/manifest.json", "dist/subjects.sha256"}, nil},
		{"a receipt missing", "true", []string{"dist/a.receipt"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "dist"), 0o755); err != nil {
				t.Fatal(err)
			}
			subjects := strings.Repeat("0", 64) + "  dist/a\n" + strings.Repeat("1", 64) + "  dist/b\n"
			for name, content := range map[string]string{"dist/subjects.sha256": subjects, "dist/a": "a", "dist/b": "b"} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range tc.receipts {
				if err := os.WriteFile(filepath.Join(dir, r), []byte("receipt"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, log, outputs := run(t, dir, files, append([]string{"SUBJECTS_FILE=dist/subjects.sha256", "MANIFEST=dist/manifest.json",
				"SBOM=", "SIGNATURES=", "PROVENANCE=", "SBOM_ATTESTATION=", "UPLOADED=" + tc.uploaded}, tc.env...)...)
			if tc.want == nil {
				if code == 0 || !strings.Contains(log, "the upload left no receipt beside dist/b") {
					t.Errorf("exit %d, log %q: want a failure naming dist/b", code, log)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d, log %q", code, log)
			}
			var got []string
			for _, l := range strings.Split(outputs, "\n") {
				if strings.HasPrefix(l, "dist/") {
					got = append(got, l)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("files = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReleaseWorkflowTestScan: both release jobs run the test action right
// after the build outputs and before the SBOMs, only with test-command or
// test-results, and the scan action after the SBOM outputs and before the
// first signature, only with scan-db (the cache restore between them only
// with scan-db-cache-key); both sign with the job's signer inputs exactly
// as the sign step does; their outputs reach the workflow's.
func TestReleaseWorkflowTestScan(t *testing.T) {
	wf := readReleaseWorkflow(t)
	for _, in := range []string{"test-command", "test-results", "test-format", "test-allow-failure", "scan-db", "scan-db-max-age", "scan-db-cache-key", "scan-sarif-artifact"} {
		if _, ok := wf.On.WorkflowCall.Inputs[in]; !ok {
			t.Errorf("release.yml has no %s input", in)
		}
	}
	outputs := map[string]string{"test-result": "steps.test.outputs.result", "scan-findings": "steps.scan.outputs.findings",
		"scan-max-severity": "steps.scan.outputs.max-severity", "scan-sarif": "steps.scan.outputs.sarif"}
	for o := range outputs {
		if got, want := wf.On.WorkflowCall.Outputs[o].Value, "${{ jobs.result.outputs."+o+" }}"; got != want {
			t.Errorf("workflow output %s = %q, want %q", o, got, want)
		}
	}
	for _, job := range []string{"release-keyless", "release-key"} {
		j := wf.Jobs[job]
		at := map[string]int{}
		for i, s := range j.Steps {
			if s.ID != "" {
				at[s.ID] = i
			}
			if s.Uses == "actions/cache/restore@v4" {
				at["restore"] = i
			}
		}
		order := []string{"build", "test", "sbom-runner", "sbom", "restore", "scan-db", "scan", "sign"}
		for i := 1; i < len(order); i++ {
			a, aok := at[order[i-1]]
			b, bok := at[order[i]]
			if !aok || !bok || a >= b {
				t.Errorf("job %s: step %s (%d) must come before %s (%d)", job, order[i-1], a+1, order[i], b+1)
			}
		}
		sign := j.Steps[at["sign"]]
		for id, want := range map[string]struct{ uses, cond string }{
			"test": {"slipway/actions/actions/test@v1", "inputs.test-command != '' || inputs.test-results != ''"},
			"scan": {"slipway/actions/actions/scan@v1", "inputs.scan-db != ''"},
		} {
			s := j.Steps[at[id]]
			if s.Uses != want.uses || s.If != want.cond || s.With["manifest"] != "${{ steps.build.outputs.manifest }}" {
				t.Errorf("job %s: step %s uses %q if %q with manifest %q; want %q if %q on the build's manifest", job, id, s.Uses, s.If, s.With["manifest"], want.uses, want.cond)
			}
			for _, k := range []string{"cosign-key", "cosign-password", "keyless", "fulcio-url", "rekor-url", "tlog", "tsa-url"} {
				if s.With[k] != sign.With[k] {
					t.Errorf("job %s: step %s with.%s = %q, the sign step's is %q", job, id, k, s.With[k], sign.With[k])
				}
			}
		}
		if r := j.Steps[at["restore"]]; r.If != "inputs.scan-db != '' && inputs.scan-db-cache-key != ''" || r.With["path"] != "${{ inputs.scan-db }}" ||
			r.With["key"] != "${{ inputs.scan-db-cache-key }}" || r.With["fail-on-cache-miss"] != "true" {
			t.Errorf("job %s: the cache restore step is %+v", job, r)
		}
		for o, src := range outputs {
			if got, want := j.Outputs[o], "${{ "+src+" }}"; got != want {
				t.Errorf("job %s: output %s = %q, want %q", job, o, got, want)
			}
		}
	}
}

// releaseWorkflow is the part of .github/workflows/release.yml the tests read.
type releaseWorkflow struct {
	On struct {
		WorkflowCall struct {
			Inputs  map[string]any `yaml:"inputs"`
			Secrets map[string]any `yaml:"secrets"`
			Outputs map[string]struct {
				Value string `yaml:"value"`
			} `yaml:"outputs"`
		} `yaml:"workflow_call"`
	} `yaml:"on"`
	Jobs map[string]struct {
		Outputs map[string]string `yaml:"outputs"`
		Steps   []workflowStep    `yaml:"steps"`
	} `yaml:"jobs"`
}

type workflowStep struct {
	ID   string            `yaml:"id"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
	With map[string]string `yaml:"with"`
}

func readReleaseWorkflow(t *testing.T) releaseWorkflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf releaseWorkflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	return wf
}
