package verify

import (
	"fmt"
	"math"
)

// checkJob checks the final state a slurm-dispatch provenance records for
// the job that made the subject (internalParameters state and exitCode):
// COMPLETED with exit code 0 passes; any other end fails, naming it,
// unless the Verifier accepts failed jobs (WithFailedJobs). It reports
// whether the check passed.
func (v *Verifier) checkJob(rep *SubjectReport, ev *evidence, prov *slsaProvenance) bool {
	in := prov.BuildDefinition.InternalParameters
	job, _ := in["jobId"].(string)
	state, _ := in["state"].(string)
	code, ok := in["exitCode"].(float64)
	if state == "" || !ok || code != math.Trunc(code) {
		rep.fail(CheckJob, ev.path, "the dispatch provenance of %q records no final state and exit code of its job (internalParameters state, exitCode): it was not written by slipway dispatch", rep.Name)
		return false
	}
	end := fmt.Sprintf("Slurm job %s ended %s with exit code %d", job, state, int(code))
	switch {
	case state == "COMPLETED" && code == 0:
		rep.pass(CheckJob, ev.path, "", "%q is an output of a successful run: %s", rep.Name, end)
	case v.failedJobs:
		rep.pass(CheckJob, ev.path, "", "%q is an output of a failed run, accepted as asked (allow-failed-jobs): %s", rep.Name, end)
	default:
		rep.fail(CheckJob, ev.path, "%q is an output of a failed run: %s, not COMPLETED with exit code 0; its provenance is evidence of that run, not a result: set allow-failed-jobs to accept it (to inspect or debug the run)", rep.Name, end)
		return false
	}
	return true
}
