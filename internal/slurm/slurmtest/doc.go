// Package slurmtest is the one conformance suite every slurm.Backend runs
// against the machine's real Slurm (internal/testutil/slurm): submit, a
// failing exit code, a job killed by a signal, the job's environment being
// exactly JobSpec.Env, find by comment, cancel, a batched Jobs query, a
// refused submission and the version. The cli and rest packages run it with
// their backend, so both are held to the same table.
//
// It is for tests only: it must never be imported by non-test code. Its jobs
// are tiny (one CPU, 16 MiB, one minute), named with the caller's prefix, and
// cancelled when the test ends.
package slurmtest
