package provenance

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

// TestDetectBuilder is the table of builder-id rules.
func TestDetectBuilder(t *testing.T) {
	t.Parallel()
	with := func(base map[string]string, kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	hosted := githubEnv("github-hosted", "GitHub Actions 3")
	selfHosted := githubEnv("self-hosted", "headnode-01")
	const pool = "https://hpc.example.org/runners/headnode-pool"
	const reusable = "slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0"
	tests := []struct {
		name           string
		env            map[string]string
		claims         map[string]string
		configured     string
		jobWorkflowRef string
		wantID         string
		wantSource     IDSource
		wantEnv        Environment
		wantErr        string
	}{
		{
			name: "github-hosted keyless: job_workflow_ref claim", env: hosted, claims: hostedClaims("github-hosted"),
			wantID: "https://github.com/slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0", wantSource: FromOIDCToken, wantEnv: GitHubHosted,
		},
		{
			name: "github-hosted with a key, job workflow unknown: GITHUB_WORKFLOW_REF, the top-level workflow", env: hosted,
			wantID: "https://github.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main", wantSource: FromTopLevelWorkflow, wantEnv: GitHubHosted,
		},
		{
			name: "github-hosted with a key: job.workflow_ref names the same builder as keyless", env: hosted, jobWorkflowRef: reusable,
			wantID: "https://github.com/slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0", wantSource: FromRunnerEnv, wantEnv: GitHubHosted,
		},
		{
			name: "GITHUB_JOB_WORKFLOW_REF is not GitHub's and is ignored", env: with(hosted, "GITHUB_JOB_WORKFLOW_REF", "evil/repo/.github/workflows/x.yml@refs/heads/main"),
			wantID: "https://github.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main", wantSource: FromTopLevelWorkflow, wantEnv: GitHubHosted,
		},
		{
			name: "keyless with the same job.workflow_ref", env: hosted, claims: hostedClaims("github-hosted"), jobWorkflowRef: reusable,
			wantID: "https://github.com/slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0", wantSource: FromOIDCToken, wantEnv: GitHubHosted,
		},
		{
			name: "keyless refuses a job.workflow_ref that differs from the claim", env: hosted, claims: hostedClaims("github-hosted"),
			jobWorkflowRef: "slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
			wantErr:        `job-workflow-ref is "slipway-demo/hello/.github/workflows/release.yml@refs/heads/main" but the OIDC token's claim "job_workflow_ref" is "slipway/actions/.github/workflows/release.yml@refs/tags/v1.0.0"`,
		},
		{
			name: "malformed job-workflow-ref", env: hosted, jobWorkflowRef: "slipway/actions/../../evil/x.yml@v1",
			wantErr: `job-workflow-ref "slipway/actions/../../evil/x.yml@v1" is not a workflow ref`,
		},
		{
			name: "GitHub Enterprise Server URL", env: with(hosted, "GITHUB_SERVER_URL", "https://ghe.example.com/"),
			wantID: "https://ghe.example.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main", wantSource: FromTopLevelWorkflow, wantEnv: GitHubHosted,
		},
		{
			name: "github-hosted refuses a configured id", env: hosted, configured: pool,
			wantErr: `builder-id is "https://hpc.example.org/runners/headnode-pool" but this job runs on a GitHub-hosted runner`,
		},
		{
			name: "github-hosted accepts a configured id equal to its own", env: hosted,
			configured: "https://github.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
			wantID:     "https://github.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main", wantSource: FromTopLevelWorkflow, wantEnv: GitHubHosted,
		},
		{
			name: "github-hosted without a workflow ref", env: with(hosted, "GITHUB_WORKFLOW_REF", ""),
			wantErr: "GITHUB_WORKFLOW_REF is not set",
		},
		{
			name: "self-hosted with builder-id", env: selfHosted, configured: pool,
			wantID: pool, wantSource: FromConfig, wantEnv: SelfHosted,
		},
		{
			name: "self-hosted without builder-id is refused", env: selfHosted,
			wantErr: "this job runs on a self-hosted runner (runner environment self-hosted), and slipway will not name a GitHub-hosted builder for it; set builder-id",
		},
		{
			name: "claims say self-hosted although the environment says github-hosted", env: hosted, claims: hostedClaims("self-hosted"),
			wantErr: "self-hosted runner (runner environment self-hosted)",
		},
		{
			name: "claims say self-hosted, with builder-id", env: hosted, claims: hostedClaims("self-hosted"), configured: pool,
			wantID: pool, wantSource: FromConfig, wantEnv: SelfHosted,
		},
		{
			name: "runner environment not reported counts as self-hosted", env: with(hosted, "RUNNER_ENVIRONMENT", ""),
			wantErr: "(runner environment not reported)",
		},
		{
			name: "self-hosted must not claim a GitHub id", env: selfHosted,
			configured: "https://github.com/slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
			wantErr:    "is under https://github.com/, where the ids of GitHub-hosted builders live",
		},
		{
			name: "builder-id must be an absolute URI", env: selfHosted, configured: "headnode-pool",
			wantErr: `builder-id "headnode-pool" is not an absolute URI`,
		},
		{
			name: "local CLI run", env: map[string]string{},
			wantID: LocalBuilderID, wantSource: FromLocalDefault, wantEnv: Local,
		},
		{
			name: "local CLI run with builder-id (an HPC headnode)", env: map[string]string{}, configured: "https://hpc.example.org/headnode-01",
			wantID: "https://hpc.example.org/headnode-01", wantSource: FromConfig, wantEnv: Local,
		},
		{
			name: "local run must not claim a GitHub id", env: map[string]string{}, configured: "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main",
			wantErr: "must not claim one",
		},
		{
			name: "token of another repository", env: with(hosted, "GITHUB_REPOSITORY", "someone/else"), claims: hostedClaims("github-hosted"),
			wantErr: `the OIDC token's claim "repository" is "slipway-demo/hello" but GITHUB_REPOSITORY is "someone/else"`,
		},
		{
			name: "token of another run", env: with(hosted, "GITHUB_RUN_ID", "1"), claims: hostedClaims("github-hosted"),
			wantErr: `claim "run_id" is "123456789" but GITHUB_RUN_ID is "1"`,
		},
		{
			name: "malformed run id", env: with(hosted, "GITHUB_RUN_ID", "x"),
			wantErr: "reading the GitHub Actions context",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := BuilderConfig{Getenv: env(tc.env), ConfiguredID: tc.configured, JobWorkflowRef: tc.jobWorkflowRef}
			if tc.claims != nil {
				cfg.Claims = mustClaims(t, tc.claims)
			}
			b, err := DetectBuilder(cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("DetectBuilder() error = %v, want it to contain %q", err, tc.wantErr)
				}
				if !strings.Contains(tc.name, "malformed") && !errors.Is(err, ErrBuilderID) {
					t.Errorf("error %v does not wrap ErrBuilderID", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DetectBuilder() error = %v", err)
			}
			if b.ID != tc.wantID || b.IDSource != tc.wantSource || b.Environment != tc.wantEnv {
				t.Errorf("DetectBuilder() = {%q, %s, %s}, want {%q, %s, %s}", b.ID, b.IDSource, b.Environment, tc.wantID, tc.wantSource, tc.wantEnv)
			}
			if (b.Environment == Local) != (b.GitHub == nil) {
				t.Errorf("GitHub = %+v in environment %s", b.GitHub, b.Environment)
			}
		})
	}
}

func TestInvocationID(t *testing.T) {
	t.Parallel()
	g := &GitHubRun{ServerURL: "https://github.com", Repository: "o/r", RunID: "123", RunAttempt: "1"}
	if got, want := g.InvocationID(), "https://github.com/o/r/actions/runs/123/attempts/1"; got != want {
		t.Errorf("InvocationID() = %q, want %q", got, want)
	}
	if (*GitHubRun)(nil).InvocationID() != "" {
		t.Error("nil run has an invocation id")
	}
}

// FuzzValidWorkflowRef: whatever job-workflow-ref a step passes, an accepted
// one is "owner/repo/path@ref" with no empty, "." or ".." segment.
func FuzzValidWorkflowRef(f *testing.F) {
	for _, s := range []string{
		"slipway/actions/.github/workflows/release.yml@refs/tags/v1", "o/r/.github/workflows/x.yml@" + strings.Repeat("a", 40),
		"o/r@v1", "o/r/../x.yml@v1", "o//r/x.yml@v1", "o/r/x.yml@", "o/r/x.yml", " o/r/x.yml@v1", "o/r/x.yml@v1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if !validWorkflowRef(ref) {
			return
		}
		p, at, ok := strings.Cut(ref, "@")
		if !ok || at == "" || strings.ContainsAny(ref, " \t\n\\") {
			t.Fatalf("accepted %q", ref)
		}
		parts := strings.Split(p, "/")
		if len(parts) < 3 {
			t.Fatalf("accepted %q with %d path segments", ref, len(parts))
		}
		for _, s := range parts {
			if s == "" || s == "." || s == ".." {
				t.Fatalf("accepted %q with segment %q", ref, s)
			}
		}
	})
}
