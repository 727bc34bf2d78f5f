// Package dispatch is the slurm-dispatch stage: it runs an admitted release
// on a Slurm cluster and proves what came out.
//
// Stage fetches the release from the control plane (or takes a local
// manifest with its receipt) into the job's working directory on the
// shared filesystem and verifies it there, with internal/verify under the
// trust policy and the receipt of its admission required; a release that
// fails any check is refused before anything is submitted. Run then
// renders the job script (internal/jobscript: slipway exec-verified
// re-checks the staged artifact on the compute node before it runs),
// submits it through a slurm.Backend with an idempotency key in the job's
// comment (a re-run of the same workflow attempt finds its job and follows
// it instead of submitting a second), records the dispatch at the control
// plane, follows the job to its end, collects the declared outputs (one
// hashing pass each, inside the working directory only), and writes and
// signs their SLSA v1 provenance (buildType slurm-dispatch/v1) chained to
// the input release.
//
// It knows nothing of GitHub Actions: the CLI layer maps inputs and
// outputs. It must never pass a secret (the control plane's token, a
// Slurm JWT) to the job's script, arguments or environment, write one to a
// file or a log, submit a release that did not verify, read or write an
// output outside the working directory, or verify with a second verifier:
// internal/verify decides.
package dispatch
