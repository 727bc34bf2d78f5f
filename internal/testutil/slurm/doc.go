// Package slurm gives a test the machine's real single-node Slurm cluster (Slurm 22.05 from Debian's
// slurm-wlm and slurmrestd packages) that scripts/setup starts once per machine (scripts/setup.d/slurm.sh; keep the
// two in step):
//   - munged, slurmctld and slurmd for one node (the machine's short hostname, CPUs=2, RealMemory=8192, memory a
//     consumable resource with 1 GiB per CPU by default) in the partition "debug" (the default partition);
//     no slurmdbd: finished jobs stay visible to squeue, scontrol and REST for MinJobAge=300 seconds only.
//   - slurmrestd on http://127.0.0.1:6820 (OpenAPI v0.0.38) with JWT auth: every request carries
//     X-SLURM-USER-NAME and X-SLURM-USER-TOKEN, the token from `scontrol token` (see [Cluster.Token]).
//   - a step over its --mem is killed (jobacct_gather/linux with OverMemoryKill; no cgroups here): Slurm 22.05
//     reports FAILED with ExitCode 0:9, not OUT_OF_MEMORY.
//   - /etc/slurm/oci.conf runs `sbatch --container BUNDLE` with rootless runc (a bundle from `runc spec
//     --rootless`): the batch script runs inside as /tmp/slurm/startup, so the bundle's rootfs needs /bin/sh; exit
//     codes come through; slurmstepd writes "error: _try_parse: JSON parsing error ... boolean expected" into the
//     job's output file even when the job succeeds (checked by hand, Slurm 22.05.8, runc 1.1.5).
//   - jobs run as the submitting user (root here); their working directories belong under
//     /var/lib/slipway-slurm/shared (mode 1777, the "shared filesystem" of this one node).
//
// [Require] returns the cluster with a fresh per-test directory there; a test that cannot reach the cluster is
// skipped, or failed under SLIPWAY_REQUIRE_TOOLS=1.
//
// Every test shares the one cluster with 2 CPUs: submit tiny jobs (--cpus-per-task=1, --time=1, a small --mem),
// name them with your package's prefix, and cancel what you submitted (t.Cleanup); never cancel jobs you did not
// submit.
//
// It is for tests only. It must never start, stop or reconfigure the cluster (scripts/setup does), never touch a
// job it did not submit, never print or log a token, and never be imported by non-test code.
package slurm
