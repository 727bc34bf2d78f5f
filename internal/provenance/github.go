package provenance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/slipway/actions/internal/oidc"
)

// GitHubRun is the GitHub Actions workflow run a build belongs to. Values
// come from the job's OIDC token claims when there are some, otherwise from
// the runner's environment variables.
type GitHubRun struct {
	// ServerURL is GITHUB_SERVER_URL, such as "https://github.com".
	ServerURL string
	// Repository is "owner/name".
	Repository        string
	RepositoryID      string
	RepositoryOwnerID string
	// WorkflowRef is the top-level workflow, "owner/name/.github/workflows/f.yml@refs/heads/main".
	WorkflowRef string
	// JobWorkflowRef is the workflow file the job is defined in (a reusable
	// workflow when called from another): the job_workflow_ref claim, else
	// the runner's job.workflow_ref as given to DetectBuilder; empty when
	// unknown.
	JobWorkflowRef string
	EventName      string
	// Ref and SHA are the git ref and commit that triggered the run.
	Ref string
	SHA string
	// RunID and RunAttempt identify the run and its attempt.
	RunID      string
	RunAttempt string
	// Inputs are the workflow_dispatch inputs from the event payload.
	Inputs map[string]any
}

// InvocationID is the URL of this attempt of the run,
// "https://github.com/o/r/actions/runs/123/attempts/1".
func (g *GitHubRun) InvocationID() string {
	if g == nil || g.RunID == "" || g.Repository == "" {
		return ""
	}
	id := fmt.Sprintf("%s/%s/actions/runs/%s", g.ServerURL, g.Repository, g.RunID)
	if g.RunAttempt != "" {
		id += "/attempts/" + g.RunAttempt
	}
	return id
}

// RepositoryURL is the web URL of the repository, "https://github.com/o/r".
func (g *GitHubRun) RepositoryURL() string { return g.ServerURL + "/" + g.Repository }

// detectGitHub reads the workflow run from the environment, the job's
// workflow ref the runner reported (jobWorkflowRef, possibly empty) and,
// when given, the OIDC claims. It returns nil outside GitHub Actions unless
// there are claims.
func detectGitHub(getenv func(string) string, claims *oidc.Claims, jobWorkflowRef string) (*GitHubRun, error) {
	if getenv("GITHUB_ACTIONS") != "true" && claims == nil {
		return nil, nil
	}
	ctx, err := githubactions.New(githubactions.WithGetenv(getenv)).Context()
	if err != nil {
		return nil, fmt.Errorf("reading the GitHub Actions context (GITHUB_* variables and the event file): %w; check the job's environment", err)
	}
	g := &GitHubRun{
		ServerURL:         strings.TrimSuffix(ctx.ServerURL, "/"),
		Repository:        ctx.Repository,
		RepositoryID:      getenv("GITHUB_REPOSITORY_ID"),
		RepositoryOwnerID: getenv("GITHUB_REPOSITORY_OWNER_ID"),
		WorkflowRef:       getenv("GITHUB_WORKFLOW_REF"),
		JobWorkflowRef:    jobWorkflowRef,
		EventName:         ctx.EventName,
		Ref:               ctx.Ref,
		SHA:               ctx.SHA,
	}
	if ctx.RunID != 0 {
		g.RunID = strconv.FormatInt(ctx.RunID, 10)
	}
	if ctx.RunAttempt != 0 {
		g.RunAttempt = strconv.FormatInt(ctx.RunAttempt, 10)
	}
	if in, ok := ctx.Event["inputs"].(map[string]any); ok && len(in) > 0 {
		g.Inputs = in
	}
	if jobWorkflowRef != "" && !validWorkflowRef(jobWorkflowRef) {
		return nil, fmt.Errorf("%w: job-workflow-ref %q is not a workflow ref like \"owner/repo/.github/workflows/release.yml@refs/tags/v1\"; leave the input at its default, ${{ job.workflow_ref }}", ErrBuilderID, jobWorkflowRef)
	}
	if claims == nil {
		return g, nil
	}
	if jobWorkflowRef != "" && claims.JobWorkflowRef != "" && jobWorkflowRef != claims.JobWorkflowRef {
		return nil, fmt.Errorf("%w: job-workflow-ref is %q but the OIDC token's claim \"job_workflow_ref\" is %q; leave the input at its default, ${{ job.workflow_ref }}", ErrBuilderID, jobWorkflowRef, claims.JobWorkflowRef)
	}
	for _, c := range []struct{ claim, env, fromClaim, fromEnv string }{
		{"repository", "GITHUB_REPOSITORY", claims.Repository, g.Repository},
		{"run_id", "GITHUB_RUN_ID", claims.RunID, g.RunID},
	} {
		if c.fromEnv != "" && c.fromClaim != c.fromEnv {
			return nil, fmt.Errorf("%w: the OIDC token's claim %q is %q but %s is %q; the token must be this job's own", ErrBuilderID, c.claim, c.fromClaim, c.env, c.fromEnv)
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&g.Repository, claims.Repository)
	set(&g.RepositoryID, claims.RepositoryID)
	set(&g.RepositoryOwnerID, claims.RepositoryOwnerID)
	set(&g.WorkflowRef, claims.WorkflowRef)
	set(&g.JobWorkflowRef, claims.JobWorkflowRef)
	set(&g.EventName, claims.EventName)
	set(&g.Ref, claims.Ref)
	set(&g.SHA, claims.SHA)
	set(&g.RunID, claims.RunID)
	set(&g.RunAttempt, claims.RunAttempt)
	return g, nil
}

// validWorkflowRef reports whether ref looks like a workflow ref:
// "owner/repo/path/to/workflow.yml@ref", without spaces or dot segments.
func validWorkflowRef(ref string) bool {
	p, at, ok := strings.Cut(ref, "@")
	parts := strings.Split(p, "/")
	if !ok || at == "" || len(parts) < 3 || strings.ContainsAny(ref, " \t\n\\") {
		return false
	}
	for _, part := range parts {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}
