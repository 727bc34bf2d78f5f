// Package jobscript renders the batch scripts that Slurm runs for a
// dispatched release, and splits the `command` input into an argv.
//
// A rendered script is POSIX sh. Every value that comes from outside (paths,
// digests, the command's words) appears in it only as one single-quoted
// literal, so that no byte of it is ever interpreted by the shell: not as a
// parameter, a command substitution, a glob, a redirection or a second
// command. The only expansions in a script are of variables the script sets
// itself from such literals, of SLURM_JOB_ID (set by Slurm) and of TMPDIR
// (the node's temporary directory), always inside double quotes. The job's
// first command is `slipway exec-verified`, which re-checks the staged
// artifact on the node and only then runs the command (argv, no shell); the
// script ends by writing the job's status file (API8.md) atomically.
//
// SplitCommand turns a command line into words the way a POSIX shell would,
// but without any expansion, and refuses everything a shell would treat
// specially instead of guessing: see its documentation for the exact
// grammar.
//
// This package must never put a secret in a script (a Spec has no
// environment: the job's environment reaches Slurm through the job model,
// never the script), never emit an unquoted value, and never run anything.
package jobscript
