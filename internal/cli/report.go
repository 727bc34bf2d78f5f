package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/ghreport"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/testresult"
)

// reportCommand is the failure reporter: inputs → ghreport.Event (the
// failure read from verify's report, a test result file or a job's end) →
// ghreport.Report → outputs. Its action is actions/report, run in an
// `if: always()` step after the stages.
type reportCommand struct {
	net                              netFlags
	stage, status, check, message    string
	report, testResults, log         string
	jobID, jobState, jobExitCode     string
	releaseURL, repository, workflow string
	apiURL, token, mask              string
	labels                           []string
}

func (c *reportCommand) Name() string { return "report" }
func (c *reportCommand) Short() string {
	return "Report a stage's outcome on GitHub: a failure opens one issue per stage and first failed check (with the check, a masked log excerpt, links to the run and the release, and the verification report), the same failure again comments on it, and a pass closes it."
}

// githubInputs are the inputs every GitHub face shares: which repository,
// which API, which token.
func githubInputs(repository, apiURL, token *string, why string) []input.Input {
	return []input.Input{
		input.String(repository, input.Spec{Name: "repository", Env: "GITHUB_REPOSITORY",
			Description: "The GitHub repository, OWNER/NAME; in a workflow the workflow's own."}),
		input.String(apiURL, input.Spec{Name: "github-api-url", Env: "GITHUB_API_URL", Default: ghclient.DefaultAPIURL, ActionDefault: "${{ github.api_url }}",
			Description: "GitHub's REST API (a GitHub Enterprise Server's https://HOST/api/v3); in a workflow the runner's."}),
		input.String(token, input.Spec{Name: "github-token", Env: "GITHUB_TOKEN", Secret: true, ActionDefault: GitHubTokenDefault,
			Description: "Token for GitHub's API; in a workflow the job's token by default (it needs " + why + ")."}),
	}
}

func (c *reportCommand) Inputs() []input.Input {
	ins := []input.Input{
		input.String(&c.stage, input.Spec{Name: "stage-name", Required: true,
			Description: "The stage whose outcome this is (build, test, verify, dispatch, or a name of yours): with the repository, the workflow and the first failed check it makes the issue's fingerprint."}),
		input.String(&c.status, input.Spec{Name: "status", Required: true,
			Description: "The stage's outcome: failure or success (a step's outcome or job.status; cancelled and skipped report nothing)."}),
		input.String(&c.report, input.Spec{Name: "report",
			Description: "slipway verify's JSON report (its report input or --json): the first failed check is the one reported, the whole report goes in the issue."}),
		input.String(&c.testResults, input.Spec{Name: "test-results",
			Description: "A test result file (JUnit XML, go test -json or TAP, as slipway test reads them): its failed tests are reported under check tests."}),
		input.String(&c.jobID, input.Spec{Name: "job-id", Description: "A dispatched Slurm job's ID (slurm-dispatch's job-id output)."}),
		input.String(&c.jobState, input.Spec{Name: "job-state", Description: "The job's final state (slurm-dispatch's state output): other than COMPLETED with exit code 0, it is reported under check job."}),
		input.String(&c.jobExitCode, input.Spec{Name: "job-exit-code", Description: "The job's exit code (slurm-dispatch's exit-code output)."}),
		input.String(&c.check, input.Spec{Name: "check",
			Description: "The failed check when no report, test results or job say one; by default the stage's name."}),
		input.String(&c.message, input.Spec{Name: "message",
			Description: "What failed, when no report, test results or job say it."}),
		input.String(&c.log, input.Spec{Name: "log",
			Description: "A log file of the stage: its last lines go in the issue, secrets masked (the values of the secret inputs and variables slipway knows, mask, and token, key and credential patterns)."}),
		input.String(&c.mask, input.Spec{Name: "mask", Env: "SLIPWAY_REPORT_MASK", Secret: true,
			Description: "More values to hide in what is sent, one per line (secrets the stage used that slipway does not know of)."}),
		input.String(&c.releaseURL, input.Spec{Name: "release-url",
			Description: "A link to the release the run made (its control-plane page or GitHub Release)."}),
		input.List(&c.labels, input.Spec{Name: "labels", Default: strings.Join(ghreport.DefaultLabels, ","),
			Description: "Labels put on the issues opened; an issue is found again only if it has them all."}),
		input.String(&c.workflow, input.Spec{Name: "workflow", Env: "GITHUB_WORKFLOW",
			Description: "The workflow's name, part of the fingerprint; in a workflow its own."}),
	}
	ins = append(ins, githubInputs(&c.repository, &c.apiURL, &c.token, "permissions: issues: write")...)
	return append(ins, c.net.inputs()...)
}

func (c *reportCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "action", Description: "What was done: opened, commented, closed or none."},
		{Name: "issue-number", Description: "The issue opened or commented on (the first closed, on a pass); empty when none."},
		{Name: "issue-url", Description: "That issue's page."},
	}
}

func (c *reportCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	var status ghreport.Status
	switch strings.ToLower(strings.TrimSpace(c.status)) {
	case "failure", "failed":
		status = ghreport.Failure
	case "success":
		status = ghreport.Success
	case "cancelled", "skipped":
		rt.Log.Info("the stage was "+c.status+": nothing to report", "stage", c.stage)
		return c.outputs(rt, &ghreport.Outcome{Action: ghreport.Nothing})
	default:
		return exitcode.BadInputf("input \"status\": %q is not failure, success, cancelled or skipped; pass the step's outcome (steps.ID.outcome) or job.status", c.status)
	}
	if err := rt.checkInside("report", c.report, "test-results", c.testResults, "log", c.log); err != nil {
		return err
	}
	e := ghreport.Event{Repository: c.repository, Workflow: c.workflow, Stage: c.stage, Status: status,
		ReleaseURL: c.releaseURL, Commit: rt.Getenv("GITHUB_SHA"), RunURL: runURL(rt.Getenv)}
	if status == ghreport.Failure {
		f, err := c.failure(rt)
		if err != nil {
			return err
		}
		e.Failure = f
	}
	if err := e.Validate(); err != nil {
		return exitcode.BadInput(err)
	}
	if _, _, err := ghclient.SplitRepository(c.repository); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"repository\": %w", err))
	}
	client, err := ghclient.New(ghclient.Options{APIURL: c.apiURL, Token: c.token, HTTP: rt.Net.Client("GitHub"), Retry: ghclient.Retry{Log: rt.Log}})
	if err != nil {
		return exitcode.BadInput(err)
	}
	var out *ghreport.Outcome
	err = rt.Group("slipway report: "+c.stage+" "+string(status)+" in "+c.repository, func() error {
		out, err = ghreport.Report(ctx, ghreport.Options{Client: client, Labels: c.labels, Masker: ghreport.NewMasker(c.secrets(rt)...), Log: rt.Log}, e)
		return err
	})
	if err != nil {
		return githubError(err)
	}
	return c.outputs(rt, out)
}

func (c *reportCommand) outputs(rt *Runtime, out *ghreport.Outcome) error {
	num, url := "", ""
	if len(out.Issues) > 0 {
		num, url = strconv.Itoa(out.Issues[0].Number), out.Issues[0].URL
	}
	for _, kv := range [][2]string{{"action", string(out.Action)}, {"issue-number", num}, {"issue-url", url}} {
		if err := rt.Output(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// failure reads what failed: verify's report, then the test results, then
// the job, then the check and message inputs; the evidence read is kept
// whichever names the check.
func (c *reportCommand) failure(rt *Runtime) (*ghreport.Failed, error) {
	var f *ghreport.Failed
	var evidence ghreport.Failed
	if c.report != "" {
		r, err := ghreport.ReadVerifyReport(rt.path(c.report))
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"report\": %w", err)), c.report)
		}
		evidence.Report = r
		f = ghreport.FromReport(r)
	}
	if c.testResults != "" {
		file, err := regfile.Open(rt.path(c.testResults))
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"test-results\": %w", err)), c.testResults)
		}
		r, err := testresult.Parse(c.testResults, file, testresult.Auto)
		file.Close()
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"test-results\": %w", err)), c.testResults)
		}
		if tf := ghreport.FromTests(r); tf != nil {
			evidence.Tests = tf.Tests
			f = cmp.Or(f, tf)
		}
	}
	if c.jobID != "" || c.jobState != "" {
		if c.jobState == "" {
			return nil, exitcode.BadInputf("input \"job-state\" is empty while job-id is %q; pass slurm-dispatch's state output too", c.jobID)
		}
		j := ghreport.Job{ID: c.jobID, State: c.jobState, ExitCode: cmp.Or(c.jobExitCode, "-1")}
		if jf := ghreport.FromJob(j); jf != nil {
			evidence.Job = jf.Job
			f = cmp.Or(f, jf)
		}
	}
	if f == nil {
		f = &ghreport.Failed{Check: cmp.Or(c.check, c.stage), Subject: c.stage,
			Message: cmp.Or(c.message, "the stage failed; its log says why")}
	}
	f.Report, f.Tests, f.Job = evidence.Report, evidence.Tests, evidence.Job
	if c.log != "" {
		l, err := ghreport.ReadLogTail(rt.path(c.log))
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"log\": %w", err)), c.log)
		}
		f.Log = l
	}
	return f, nil
}

// secrets are the values masked in what is sent: this command's token and
// mask input, and every secret input of every stage as its variable or
// action input holds it here (what the action layer masks in logs).
func (c *reportCommand) secrets(rt *Runtime) []string {
	out := []string{c.token}
	out = append(out, strings.Split(c.mask, "\n")...)
	for _, cmd := range append(Commands(), &serveCommand{}, &exportCommand{}) {
		for _, in := range cmd.Inputs() {
			if !in.Secret {
				continue
			}
			out = append(out, rt.Getenv(in.ActionEnv()))
			if in.Env != "" {
				out = append(out, rt.Getenv(in.Env))
			}
		}
	}
	return out
}

// runURL links to this run's attempt, from the variables Actions sets.
func runURL(getenv func(string) string) string {
	server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	u := strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + id
	if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
		u += "/attempts/" + a
	}
	return u
}

// isGitHubInfra reports whether err is GitHub not answering as asked: a
// rate limit, a server error, a lost connection.
func isGitHubInfra(err error) bool {
	var rl *ghclient.RateLimitedError
	var er *github.ErrorResponse
	var ue *url.Error
	return errors.As(err, &rl) || (errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= 500) || errors.As(err, &ue) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// githubError gives GitHub's refusals their exit codes: a rate limit or an
// outage is infrastructure (3), anything else GitHub refused is bad input
// (2: a wrong token, repository or permission).
func githubError(err error) error {
	var rl *ghclient.RateLimitedError
	var ce *exitcode.Error
	switch {
	case errors.As(err, &ce):
		return err
	case errors.As(err, &rl):
		return exitcode.Infra(err)
	case ghclient.IsRefused(err):
		return exitcode.BadInput(fmt.Errorf("%w; check the token's permissions and the repository", err))
	}
	return exitcode.Infra(err)
}
