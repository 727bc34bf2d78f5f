package ghreport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/ghclient"
)

// Deployment statuses the mirror posts (GitHub's names).
const (
	DeployQueued     = "queued"
	DeployInProgress = "in_progress"
	DeploySuccess    = "success"
	DeployFailure    = "failure"
)

// DeploymentOptions say which deployment mirrors a job.
type DeploymentOptions struct {
	Client     *ghclient.Client
	Repository string // OWNER/NAME
	// Ref is what is deployed: the run's commit (GITHUB_SHA).
	Ref string
	// Environment is the deployment's environment (a cluster's name).
	Environment string
	// Description says what runs ("release r-… on cluster X").
	Description string
	// LogURL links each status to the run's log.
	LogURL string
	// Payload is stored with the deployment (release, cluster).
	Payload map[string]string
	Log     *slog.Logger
}

// JobUpdate is a job's state as the dispatch follow loop sees it.
type JobUpdate struct {
	ID    string
	State string // Slurm's: PENDING, RUNNING, COMPLETED, FAILED, …
	Nodes string
	Final bool // the job has ended (Finish posts its end)
}

// Deployment is one job mirrored as a GitHub Deployment. Observe is safe
// to call from the follow loop (it never blocks); Finish posts the end.
type Deployment struct {
	o           DeploymentOptions
	owner, repo string
	id          int64

	mu      sync.Mutex
	pending *JobUpdate // the newest state not yet posted
	last    string     // the last status posted
	wake    chan struct{}
	done    chan struct{}
	cancel  context.CancelFunc // ends a post of the loop that Finish cannot wait for
	err     error              // the first failure to post
}

// StartDeployment creates the deployment (no commit status checks
// required: the pipeline verified the release) with status queued, and
// starts posting what Observe sees.
func StartDeployment(ctx context.Context, o DeploymentOptions) (*Deployment, error) {
	owner, repo, err := ghclient.SplitRepository(o.Repository)
	if err != nil {
		return nil, err
	}
	if o.Ref == "" {
		return nil, errors.New("no ref to deploy: give the run's commit (GITHUB_SHA)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	d := &Deployment{o: o, owner: owner, repo: repo, wake: make(chan struct{}, 1), done: make(chan struct{})}
	req := &github.DeploymentRequest{Ref: &o.Ref, Task: github.String("slurm-dispatch"), Environment: &o.Environment,
		Description: github.String(truncate(o.Description, 140)), AutoMerge: github.Bool(false), RequiredContexts: &[]string{},
		TransientEnvironment: github.Bool(false), ProductionEnvironment: github.Bool(false), Payload: o.Payload}
	var dep *github.Deployment
	err = o.Client.Do(ctx, "creating a GitHub deployment for the job", false, func(ctx context.Context) (*github.Response, error) {
		var resp *github.Response
		var err error
		dep, resp, err = o.Client.Repositories.CreateDeployment(ctx, owner, repo, req)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	d.id = dep.GetID()
	if err := d.post(ctx, DeployQueued, "verifying the release before submitting to Slurm"); err != nil {
		return nil, err
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	go d.loop(loopCtx)
	return d, nil
}

// ID is the deployment's ID.
func (d *Deployment) ID() int64 { return d.id }

// Observe records a job's state; the newest one is posted soon after
// (queued while pending, in_progress while running). It never blocks.
func (d *Deployment) Observe(u JobUpdate) {
	if u.Final {
		return
	}
	d.mu.Lock()
	d.pending = &u
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Deployment) loop(ctx context.Context) {
	defer close(d.done)
	for range d.wake {
		d.mu.Lock()
		u := d.pending
		d.pending = nil
		d.mu.Unlock()
		if u == nil {
			continue
		}
		state, desc := DeployQueued, fmt.Sprintf("Slurm job %s %s", u.ID, strings.ToLower(u.State))
		if !strings.EqualFold(u.State, "PENDING") {
			state = DeployInProgress
			if u.Nodes != "" {
				desc += " on " + u.Nodes
			}
		}
		if err := d.post(ctx, state, desc); err != nil {
			d.mu.Lock()
			d.err = firstErr(d.err, err)
			d.mu.Unlock()
		}
	}
}

// Finish stops observing and posts the end: success, or failure with
// what ended the job (or why it never ran). It returns the first error of
// any post.
// When ctx ends first (bound it: a rate limit may ask for minutes), the
// pending post is given up.
func (d *Deployment) Finish(ctx context.Context, success bool, description string) error {
	close(d.wake)
	select {
	case <-d.done:
	case <-ctx.Done():
		d.cancel()
		<-d.done
	}
	d.cancel()
	state := DeployFailure
	if success {
		state = DeploySuccess
	}
	err := d.post(ctx, state, description)
	d.mu.Lock()
	defer d.mu.Unlock()
	return firstErr(d.err, err)
}

// post sends one status unless it repeats the last one.
func (d *Deployment) post(ctx context.Context, state, desc string) error {
	desc = truncate(oneLine(desc), 140)
	d.mu.Lock()
	if d.last == state+"\x00"+desc {
		d.mu.Unlock()
		return nil
	}
	d.last = state + "\x00" + desc
	d.mu.Unlock()
	req := &github.DeploymentStatusRequest{State: &state, Description: &desc, Environment: &d.o.Environment, AutoInactive: github.Bool(false)}
	if d.o.LogURL != "" {
		req.LogURL = &d.o.LogURL
	}
	c := d.o.Client
	err := c.Do(ctx, fmt.Sprintf("posting deployment status %s", state), false, func(ctx context.Context) (*github.Response, error) {
		_, resp, err := c.Repositories.CreateDeploymentStatus(ctx, d.owner, d.repo, d.id, req)
		return resp, err
	})
	if err == nil {
		d.o.Log.Info("deployment status posted", "deployment", d.id, "state", state, "description", desc)
	}
	return err
}

// firstErr keeps the first error.
func firstErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}
