package follow

import (
	"fmt"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
)

// Result is a finished job as a step reports it.
type Result struct {
	JobID uint32
	State slurm.State
	// ExitCode is the script's exit status; for a job ended by a signal
	// 128 + the signal's number, as shells report it; -1 when unknown.
	ExitCode int
	// Elapsed is from the job's start to its end; 0 when either is unknown.
	Elapsed time.Duration
	// Reason is Slurm's reason, or why exec-verified refused the job.
	Reason string
}

// ResultOf maps a final job to its Result.
func ResultOf(j slurm.Job) Result {
	r := Result{JobID: j.ID, State: j.State, ExitCode: j.ExitCode, Reason: j.Reason}
	if j.Signal > 0 {
		r.ExitCode = 128 + j.Signal
	}
	if !j.Start.IsZero() && j.End.After(j.Start) {
		r.Elapsed = j.End.Sub(j.Start).Round(time.Second)
	}
	return r
}

// Success reports whether the job completed with exit code 0: the only
// result a step passes with.
func (r Result) Success() bool { return r.State == slurm.Completed && r.ExitCode == 0 }

// Err is nil for a success and otherwise an error saying how the job ended
// and what to do, marked as a failure (exit code 1).
func (r Result) Err() error {
	if r.Success() {
		return nil
	}
	why := ""
	if r.Reason != "" && r.Reason != "None" {
		why = " (" + r.Reason + ")"
	}
	var msg string
	switch r.State {
	case slurm.Completed, slurm.Failed:
		msg = fmt.Sprintf("job %d failed with exit code %d%s; its output above says why", r.JobID, r.ExitCode, why)
	case slurm.Timeout:
		msg = fmt.Sprintf("job %d hit its time limit%s; ask for a longer --time-limit or make the job shorter", r.JobID, why)
	case slurm.OutOfMemory:
		msg = fmt.Sprintf("job %d ran out of memory%s; ask for more --mem", r.JobID, why)
	case slurm.Cancelled:
		msg = fmt.Sprintf("job %d was cancelled%s", r.JobID, why)
	case slurm.NodeFail:
		msg = fmt.Sprintf("job %d's node failed%s; run it again", r.JobID, why)
	case slurm.Preempted:
		msg = fmt.Sprintf("job %d was preempted%s; run it again or use a QOS that is not preempted", r.JobID, why)
	default:
		msg = fmt.Sprintf("job %d ended %s%s", r.JobID, r.State, why)
	}
	return exitcode.Failure(fmt.Errorf("%s", msg))
}

// Outputs are the step outputs, in order: job-id, state, exit-code and
// elapsed (whole seconds).
func (r Result) Outputs() [][2]string {
	return [][2]string{
		{"job-id", strconv.FormatUint(uint64(r.JobID), 10)},
		{"state", string(r.State)},
		{"exit-code", strconv.Itoa(r.ExitCode)},
		{"elapsed", strconv.FormatInt(int64(r.Elapsed/time.Second), 10)},
	}
}
