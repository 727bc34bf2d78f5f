package dispatch

import (
	"context"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/slurm"
)

// PlanJob renders the job of a staged release exactly as Run submits it
// (the jobscript with slipway exec-verified first, the job's whole
// environment, its logs and status file under WORKDIR/.slipway) and
// returns its validated spec, without a comment: the caller sets the
// idempotency key. The control plane's own dispatch (slipway serve
// --slurm) submits through it, so that both dispatchers run the same job.
// An image artifact's config and layers are not staged here: call
// StageJobImage before submitting.
func PlanJob(st *Staged, j Job, workdir string) (slurm.JobSpec, error) {
	p, err := newPlan(st, j, workdir, "")
	if err != nil {
		return slurm.JobSpec{}, err
	}
	if err := p.spec.Validate(); err != nil {
		return slurm.JobSpec{}, err
	}
	if err := p.checkStaging(); err != nil {
		return slurm.JobSpec{}, err
	}
	return p.spec, nil
}

// StageJobImage completes the staged image of the artifact job j runs, as
// Run does before it submits (StageImage); nothing for an artifact that is
// not an image. registry are the options to pull with (nil: the Docker
// config's credentials, default network limits).
func StageJobImage(ctx context.Context, st *Staged, j Job, registry []remote.Option) error {
	a, err := chooseArtifact(st, j, "")
	if err != nil || !isImage(a) {
		return err
	}
	return StageImage(ctx, st, a, j, registry)
}
