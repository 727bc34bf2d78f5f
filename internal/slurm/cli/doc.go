// Package cli is the slurm.Backend that runs Slurm's own commands: sbatch
// --parsable to submit, one `squeue --json --states=all` per Jobs or
// FindByComment call (one REQUEST_JOB_INFO RPC to slurmctld, measured with
// sdiag, whatever the number of jobs), scancel to cancel and sbatch --version
// (no RPC) for the version.
//
// Every value is its own argv word ("--partition=debug"), never a shell; the
// script goes to sbatch on stdin, so no temporary file is left behind. The
// job's environment is exactly JobSpec.Env: sbatch runs with --export=ALL
// and a process environment built from Env alone (plus SLURM_CONF when the
// caller has it, so that sbatch finds its configuration), so nothing of the
// calling process (tokens, the runner's variables) reaches the job. On Slurm
// 22.05 --export=NONE or --export=NAMES would instead load the submitting
// user's login environment on the node (sbatch sets SLURM_GET_USER_ENV=1),
// which is why they are not used. Slurm adds its SLURM_* variables and
// ENVIRONMENT, HOSTNAME, PWD and TMPDIR itself.
//
// It must never put a value of the spec where a shell or an option parser
// could read it as something else, never pass the caller's environment to
// sbatch, never log or return a value of Env, and never cancel a job it was
// not asked to.
package cli
