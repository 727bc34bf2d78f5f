package provenance

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/slipway/actions/internal/oidc"
)

// Environment is where a build runs, as far as it can be told.
type Environment string

// The environments a Builder can be in.
const (
	// GitHubHosted is a GitHub-hosted runner (RUNNER_ENVIRONMENT or the
	// OIDC claim runner_environment is "github-hosted").
	GitHubHosted Environment = "github-hosted"
	// SelfHosted is a GitHub Actions job on any other runner, including one
	// whose environment is not reported (older GitHub Enterprise Server, act).
	SelfHosted Environment = "self-hosted"
	// Local is a run outside GitHub Actions: a laptop or an HPC headnode
	// running the slipway CLI.
	Local Environment = "local"
)

// IDSource says what vouches for a builder ID.
type IDSource string

// The sources of a builder ID.
const (
	// FromOIDCToken: the job_workflow_ref claim of the job's GitHub OIDC
	// token, which Fulcio verifies and certifies when signing is keyless.
	FromOIDCToken IDSource = "oidc-token"
	// FromRunnerEnv: the job's workflow as the runner reports it (GitHub's
	// job.workflow_ref context, passed in as BuilderConfig.JobWorkflowRef) on
	// a GitHub-hosted runner; vouched for by the signing key's holder only.
	// It names the same workflow as the job_workflow_ref claim.
	FromRunnerEnv IDSource = "runner-environment"
	// FromTopLevelWorkflow: GITHUB_WORKFLOW_REF on a GitHub-hosted runner,
	// used when the job's own workflow is not known (GitHub Enterprise
	// Server, which has no job.workflow_ref). It names the top-level
	// workflow of the run: the caller's, when the job is in a reusable
	// workflow. Vouched for by the signing key's holder only.
	FromTopLevelWorkflow IDSource = "top-level-workflow"
	// FromConfig: the builder-id input, set by whoever runs the builder.
	FromConfig IDSource = "configured"
	// FromLocalDefault: nothing vouches for the builder; LocalBuilderID.
	FromLocalDefault IDSource = "local-unverified"
)

// LocalBuilderID is the builder ID of a run outside GitHub Actions without a
// configured builder-id: it says that the build ran on an unidentified
// machine and that nothing verified it. A trust policy should not accept it
// for anything that matters.
const LocalBuilderID = "https://slipway.dev/builders/local-unverified/v1"

// ErrBuilderID is wrapped by every error DetectBuilder returns because the
// builder cannot be identified truthfully with the given configuration.
var ErrBuilderID = errors.New("cannot identify the builder")

// Builder is who runs a build: its SLSA builder ID, what vouches for that ID,
// the runner and, inside GitHub Actions, the workflow run. Stages that make
// provenance (attest, and later the HPC dispatch) detect it once with
// DetectBuilder.
type Builder struct {
	// ID is runDetails.builder.id: a URI naming the builder.
	ID string
	// IDSource says what vouches for ID.
	IDSource IDSource
	// Environment is where the build runs.
	Environment Environment
	// Runner describes the machine, as the runner reports it.
	Runner Runner
	// GitHub describes the workflow run; nil outside GitHub Actions.
	GitHub *GitHubRun
}

// Runner is the machine a build runs on, as its runner reports it. Nothing
// here is verified; it is recorded for people and policies to read.
type Runner struct {
	Name string
	OS   string
	Arch string
	// Labels are the runner labels given by the builder's operator (the
	// runner-labels input): GitHub does not expose a runner's labels to a job.
	Labels []string
}

// BuilderConfig is what DetectBuilder reads.
type BuilderConfig struct {
	// Getenv reads the environment (os.Getenv in production). Required.
	Getenv func(string) string
	// Claims are the claims of the job's GitHub OIDC token when the
	// attestation is signed keyless; nil otherwise. When present they take
	// precedence over the environment, which anything in the job can change.
	Claims *oidc.Claims
	// ConfiguredID is the builder-id input: the ID of a self-hosted runner
	// pool or of a machine running the CLI, as its operator names it.
	ConfiguredID string
	// RunnerLabels are recorded in Runner.Labels.
	RunnerLabels []string
	// JobWorkflowRef is the workflow file that defines the job,
	// "owner/repo/.github/workflows/f.yml@ref", as the runner reports it
	// (GitHub's job.workflow_ref context, the default of the attest action's
	// job-workflow-ref input); empty when unknown. GitHub sets no
	// environment variable for it.
	JobWorkflowRef string
}

// DetectBuilder identifies the builder. The rules, in order:
//
//   - The environment is the OIDC claim runner_environment when there are
//     claims, else RUNNER_ENVIRONMENT inside GitHub Actions (anything but
//     "github-hosted", including nothing, counts as self-hosted), else Local.
//   - GitHub-hosted: the ID is GITHUB_SERVER_URL + "/" + the job's workflow
//     ref — the job_workflow_ref claim (IDSource FromOIDCToken), else
//     JobWorkflowRef (FromRunnerEnv), else GITHUB_WORKFLOW_REF, the run's
//     top-level workflow (FromTopLevelWorkflow). A JobWorkflowRef that
//     differs from the claim is refused, and so is a configured ID that
//     differs from the derived one: the runner's identity is not the
//     operator's to choose.
//   - Self-hosted: the configured ID, which is required; the job's workflow is
//     still recorded in the provenance's parameters, but it never becomes the
//     builder ID, which would claim a GitHub-hosted builder.
//   - Local: the configured ID, else LocalBuilderID.
//
// A configured ID must be an absolute URI and must not be under the GitHub
// server's URL, the namespace of GitHub-hosted builder IDs.
func DetectBuilder(cfg BuilderConfig) (*Builder, error) {
	getenv := cfg.Getenv
	gh, err := detectGitHub(getenv, cfg.Claims, strings.TrimSpace(cfg.JobWorkflowRef))
	if err != nil {
		return nil, err
	}
	b := &Builder{
		GitHub: gh,
		Runner: Runner{Name: getenv("RUNNER_NAME"), OS: getenv("RUNNER_OS"), Arch: getenv("RUNNER_ARCH"), Labels: cfg.RunnerLabels},
	}
	runnerEnv := getenv("RUNNER_ENVIRONMENT")
	if cfg.Claims != nil {
		runnerEnv = cfg.Claims.RunnerEnvironment
	}
	switch {
	case gh == nil:
		b.Environment = Local
	case runnerEnv == string(GitHubHosted):
		b.Environment = GitHubHosted
	default:
		b.Environment = SelfHosted
	}
	configured := strings.TrimSpace(cfg.ConfiguredID)
	serverURL := "https://github.com"
	if gh != nil {
		serverURL = gh.ServerURL
	}

	if b.Environment == GitHubHosted {
		ref, src := gh.JobWorkflowRef, FromRunnerEnv
		switch {
		case cfg.Claims != nil && cfg.Claims.JobWorkflowRef != "":
			src = FromOIDCToken
		case ref == "":
			ref, src = gh.WorkflowRef, FromTopLevelWorkflow
		}
		if ref == "" {
			return nil, fmt.Errorf("%w: this job runs on a GitHub-hosted runner but GITHUB_WORKFLOW_REF is not set; run the attest step as a step of a GitHub Actions job", ErrBuilderID)
		}
		b.ID, b.IDSource = serverURL+"/"+ref, src
		if configured != "" && configured != b.ID {
			return nil, fmt.Errorf("%w: builder-id is %q but this job runs on a GitHub-hosted runner, whose builder id is its workflow, %q; remove builder-id (it is for self-hosted runners and local runs)", ErrBuilderID, configured, b.ID)
		}
		return b, nil
	}

	if configured != "" {
		if err := checkConfiguredID(configured, serverURL); err != nil {
			return nil, err
		}
		b.ID, b.IDSource = configured, FromConfig
		return b, nil
	}
	if b.Environment == SelfHosted {
		reported := runnerEnv
		if reported == "" {
			reported = "not reported"
		}
		return nil, fmt.Errorf("%w: this job runs on a self-hosted runner (runner environment %s), and slipway will not name a GitHub-hosted builder for it; set builder-id to the id your trust policy allows for this runner pool, such as \"https://hpc.example.org/runners/headnode-pool\"", ErrBuilderID, reported)
	}
	b.ID, b.IDSource = LocalBuilderID, FromLocalDefault
	return b, nil
}

// checkConfiguredID checks a builder-id input.
func checkConfiguredID(id, serverURL string) error {
	u, err := url.Parse(id)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return fmt.Errorf("%w: builder-id %q is not an absolute URI; name the builder like \"https://hpc.example.org/runners/headnode-pool\"", ErrBuilderID, id)
	}
	prefix := strings.TrimSuffix(serverURL, "/") + "/"
	if strings.HasPrefix(strings.ToLower(id), strings.ToLower(prefix)) {
		return fmt.Errorf("%w: builder-id %q is under %s, where the ids of GitHub-hosted builders live; a self-hosted or local builder must not claim one: use a URI of your own", ErrBuilderID, id, prefix)
	}
	return nil
}
