package dispatch

import (
	"fmt"

	"github.com/slipway/actions/internal/slurm"
)

// PlanJob renders the job of a staged release exactly as Run submits it
// (the jobscript with slipway exec-verified first, the job's whole
// environment, its logs and status file under WORKDIR/.slipway) and
// returns its validated spec, without a comment: the caller sets the
// idempotency key. The control plane's own dispatch (slipway serve
// --slurm) submits through it, so that both dispatchers run the same job.
func PlanJob(st *Staged, j Job, workdir string) (slurm.JobSpec, error) {
	p, err := newPlan(st, j, workdir, "")
	if err != nil {
		return slurm.JobSpec{}, err
	}
	if isImage(p.artifact) {
		return slurm.JobSpec{}, fmt.Errorf("artifact %q is an OCI image, whose layers the control plane does not stage: dispatch it with slipway dispatch (it pulls them by digest)", p.artifact.Name)
	}
	if err := p.spec.Validate(); err != nil {
		return slurm.JobSpec{}, err
	}
	if err := p.checkStaging(); err != nil {
		return slurm.JobSpec{}, err
	}
	return p.spec, nil
}
