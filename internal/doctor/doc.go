// Package doctor checks an HPC headnode for `slipway runner doctor`: the Slurm commands and their version, munge,
// the controller and the partition, slurmrestd and its JWT auth (when the REST backend is asked for), the control
// plane (/readyz) and its log key, the trust policy, the shared working directory (exists, writable, and the same
// directory on a compute node: a tiny job checks it) and free disk space. [Run] returns what passed and one
// [Problem] per thing that is wrong, each saying what to fix.
//
// It is a diagnosis, not a repair: it must never change the site's configuration, never cancel or touch a job it did
// not submit (its own test job is cancelled when it runs too long), never leave a file behind in the working
// directory, and never print a token (SLURM_JWT or one from scontrol token).
package doctor
