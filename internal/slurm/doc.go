// Package slurm is the one job model Slipway submits to Slurm with: a JobSpec
// (what to run and where), a Job (what Slurm says about it), its State and
// the Backend interface that the sibling packages implement: slurm/cli
// (sbatch, squeue, scontrol, scancel) and slurm/rest (slurmrestd with JWT).
//
// Validate refuses every field that is not in a strict form before a backend
// sees it: names, partition, account, QOS, cluster, GPU, gres and constraint
// from small character sets; memory in Slurm's --mem syntax; absolute, clean
// paths; environment names of [A-Za-z_][A-Za-z0-9_]*; no "#SBATCH" (or #PBS,
// #BSUB) directive in the script, so that the script cannot ask for resources
// the spec (and the policy that checked it) did not.
//
// This package must never run a command, open a connection or read a file,
// and no value of a JobSpec may ever reach a shell: backends pass each value
// as its own argument or JSON field.
package slurm
