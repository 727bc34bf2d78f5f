// Package jobjson decodes the JSON that Slurm writes about jobs into the job
// model of package slurm: the job lists of `squeue --json` (Slurm 22.05, and
// the data_parser shapes of 23.11 and later) and of slurmrestd's job
// endpoints (OpenAPI v0.0.38, v0.0.40, v0.0.41, v0.0.42), their errors[] and
// warnings[], and the Slurm release in meta. One decoder serves both
// backends because `squeue --json` and slurmrestd share Slurm's data_parser:
// v0.0.38 (22.05) writes plain numbers and a job_state string; v0.0.40 and
// later write {set, infinite, number} objects, job_state as a list and
// exit_code as {status, return_code, signal}.
//
// It must never trust the input: sizes are bounded by the caller, unknown
// fields are ignored, malformed fields are errors naming the job and field,
// never a panic. It runs no command and opens nothing.
package jobjson
