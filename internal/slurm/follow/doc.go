// Package follow watches Slurm jobs to their end for a dispatcher: one
// Follower per process follows any number of jobs with ONE batched
// Backend.Jobs query per tick (an adaptive interval: fast right after a job
// is followed and when its status file appears, slower for long-running
// jobs, within bounds), notices a job's end early through the status file
// its wrapper writes (API8.md: <workdir>/.slipway/job-N.status, watched by
// stat polling of the directory) and confirms it with Slurm, streams the
// job's stdout and stderr files as they grow (%j and %x expanded here, whole
// lines, held partial lines flushed at the end), cancels the job when the
// caller's context ends (SIGINT/SIGTERM through internal/interrupt), and
// maps the final state to a Result (job-id, state, exit-code, elapsed).
//
// Cancelling: Follow's context is the command's; cmd/slipway's
// interrupt.Notify cancels it on SIGINT or SIGTERM (cause *interrupt.Signal),
// and Follow then cancels the job (Backend.Cancel: scancel or REST DELETE),
// waits up to CancelWait for Slurm to say CANCELLED and returns a
// *CancelledError ("cancelled job N (interrupted by SIGINT)"). A second
// signal ends the process at once; the hook Follow registers with
// interrupt.OnForcedExit cancels the job on the way out.
//
// The final state is known without slurmdbd: Slurm's own state while it
// still knows the job (TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL and
// PREEMPTED only ever come from Slurm), otherwise the status file. A job
// that Slurm forgot and that left no status file is an error saying so.
//
// This package must never guess a final state, never read a whole log file
// into memory, never poll Slurm once per job, never cancel a job it was not
// asked to follow, and never busy-wait (every wait is on a timer or a
// channel).
package follow
