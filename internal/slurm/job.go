package slurm

import (
	"context"
	"time"
)

// JobSpec is one batch job to submit. Zero values mean "unset" (Slurm's or
// the partition's default) except where a field says otherwise. Validate
// checks every field; backends call it before anything else.
type JobSpec struct {
	// Name is the job name (--job-name), at most 64 bytes of [A-Za-z0-9._-].
	Name string
	// Comment carries the idempotency key (API8.md): at most 255 bytes of
	// [A-Za-z0-9._:=/-]. FindByComment finds the job by it.
	Comment string

	Partition, Account, QOS string
	// Cluster is sbatch --clusters / the REST cluster; "" is the local one.
	Cluster string

	// TimeLimit is rounded up to whole minutes; 0 is the partition default.
	TimeLimit time.Duration
	// Nodes, NTasks and CPUsPerTask: 0 means unset.
	Nodes, NTasks, CPUsPerTask int
	// Mem is Slurm's --mem syntax: a number with an optional unit K, M, G or
	// T (M when none), per node. "" is unset.
	Mem string
	// GPUs is --gpus ("2" or "a100:2"); Gres is --gres ("gpu:a100:2,shard:1");
	// Constraint is --constraint (features joined with & | , * [ ] ( )).
	GPUs, Gres, Constraint string

	// WorkDir is the job's working directory (required): absolute, on the
	// shared filesystem.
	WorkDir string
	// Stdout and Stderr are absolute paths that may contain %j (job id), %x
	// (job name) and %% (a percent sign); "" is Slurm's default.
	Stdout, Stderr string
	// Env is the job's WHOLE environment besides the SLURM_* variables Slurm
	// sets itself: nothing of the submitting process reaches the job.
	Env map[string]string
	// Script is the batch script ("#!" first; internal/jobscript renders it).
	Script []byte
	// Container is an OCI bundle directory for --container; "" is none.
	Container string
}

// Job is what Slurm knows of one job.
type Job struct {
	ID                                       uint32
	Name, Comment, Partition, Cluster, Nodes string
	State                                    State
	// Reason is Slurm's state reason ("None", "Resources", "NonZeroExitCode", …).
	Reason string
	// ExitCode is the batch script's exit status; -1 while unknown (the job
	// has not ended or was killed by a signal before it could exit).
	ExitCode int
	// Signal is the signal that ended the script, 0 for none; SigOOM for
	// a job Slurm ended OUT_OF_MEMORY.
	Signal             int
	Submit, Start, End time.Time
	// Stdout and Stderr as Slurm reports them (expanded where Slurm expands them).
	Stdout, Stderr string
	// TRES is the allocated trackable resources ("cpu=1,mem=64M,node=1,billing=1").
	TRES string
}

// SigOOM is the signal Slurm reports for a job in whose memory cgroup the
// kernel's OOM killer acted (state OUT_OF_MEMORY, task/cgroup with
// ConstrainRAMSpace): Slurm's SIG_OOM, wait status 253, shown as ExitCode
// 0:125 by scontrol, exit_code 253 in squeue --json and REST v0.0.38,
// {"status": ["SIGNALED"], "signal": {"id": 125}} from v0.0.40 on. It is
// no real signal: Slurm puts it in place of the script's own status, so the
// script's exit code is unknown (-1) and a step's exit-code is 128 + 125 =
// 253, by the same rule as for any signal.
const SigOOM = 125

// Backend submits, queries and cancels jobs. Implementations: slurm/cli and
// slurm/rest. All methods are safe for concurrent use.
type Backend interface {
	// Submit validates spec and submits it; it returns the job id.
	Submit(ctx context.Context, spec JobSpec) (uint32, error)
	// Jobs returns what Slurm knows of these jobs in ONE query (squeue/
	// scontrol or one REST list); ids Slurm no longer knows are absent from
	// the map (never an error).
	Jobs(ctx context.Context, ids []uint32) (map[uint32]Job, error)
	// FindByComment returns the jobs (any state Slurm still knows) whose
	// comment is exactly c and that belong to the user the backend submits as,
	// so that a job someone else submitted with our idempotency key is never
	// followed as ours.
	FindByComment(ctx context.Context, c string) ([]Job, error)
	// Cancel cancels the job. A job that has already ended (or that Slurm no
	// longer knows) is not an error: the job is not running either way.
	Cancel(ctx context.Context, id uint32) error
	// Version returns the Slurm version ("22.05.8").
	Version(ctx context.Context) (string, error)
}
