package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/ghreport"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/follow"
)

// deploymentFlags mirror a dispatched job as a GitHub Deployment: wiring
// between dispatch's follow loop (follow.Options.OnChange) and
// ghreport.Deployment, so that internal/dispatch knows nothing of GitHub.
type deploymentFlags struct {
	enabled                   bool
	environment               string
	repository, apiURL, token string
}

func (f *deploymentFlags) inputs() []input.Input {
	ins := []input.Input{
		input.Bool(&f.enabled, input.Spec{Name: "github-deployment", Default: "false",
			Description: "Mirror the job as a GitHub Deployment of the run's commit, with statuses queued (verifying, then pending in Slurm), in_progress (running) and success or failure, so that it shows in the repository's Deployments; the job needs permissions: deployments: write."}),
		input.String(&f.environment, input.Spec{Name: "github-environment", Default: "slurm",
			Description: "With github-deployment: the deployment's environment (the cluster's name, for example)."}),
	}
	return append(ins, githubInputs(&f.repository, &f.apiURL, &f.token, "permissions: deployments: write, with github-deployment")...)
}

// start creates the deployment, before anything is submitted; nil when
// github-deployment is off.
func (f *deploymentFlags) start(ctx context.Context, rt *Runtime, what string, o *dispatch.Options) (*ghreport.Deployment, error) {
	if !f.enabled {
		return nil, nil
	}
	client, err := ghclient.New(ghclient.Options{APIURL: f.apiURL, Token: f.token, HTTP: rt.Net.Client("GitHub"), Retry: ghclient.Retry{Log: rt.Log}})
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("github-deployment: %w", err))
	}
	payload := map[string]string{"release": what}
	if o.Job.Cluster != "" {
		payload["cluster"] = o.Job.Cluster
	}
	d, err := ghreport.StartDeployment(ctx, ghreport.DeploymentOptions{Client: client, Repository: f.repository, Ref: rt.Getenv("GITHUB_SHA"),
		Environment: f.environment, Description: "slipway dispatch: " + what, LogURL: runURL(rt.Getenv), Payload: payload, Log: rt.Log})
	if err != nil {
		return nil, githubError(fmt.Errorf("github-deployment: %w; nothing was submitted", err))
	}
	// The follow loop reports each state change; the deployment posts it.
	o.Follower = follow.New(o.Backend, follow.Options{Logger: rt.Log, OnChange: func(j slurm.Job) {
		d.Observe(ghreport.JobUpdate{ID: strconv.FormatUint(uint64(j.ID), 10), State: string(j.State), Nodes: j.Nodes, Final: j.State.Final()})
	}})
	return d, nil
}

// finish posts how the dispatch ended. A failure to post is a warning: the
// job's own outcome is the step's.
func finishDeployment(ctx context.Context, rt *Runtime, d *ghreport.Deployment, res *dispatch.Result, err error) {
	if d == nil {
		return
	}
	success, desc := false, ""
	switch {
	case res != nil && res.JobID != 0 && err == nil:
		success, desc = true, fmt.Sprintf("Slurm job %d completed with exit code %d after %s", res.JobID, res.ExitCode, res.Elapsed)
	case res != nil && res.JobID != 0 && res.State != "":
		desc = fmt.Sprintf("Slurm job %d ended %s with exit code %d", res.JobID, res.State, res.ExitCode)
	case err != nil:
		desc = "not run: " + err.Error()
	}
	// Within internal/interrupt's grace after a signal, and never minutes
	// for a rate limit: the job's end is already the step's outcome.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if perr := d.Finish(fctx, success, desc); perr != nil {
		rt.Report.Warning(fmt.Sprintf("the GitHub deployment %d of this job may not show its last state: %v", d.ID(), perr))
	}
}
