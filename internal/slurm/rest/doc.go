// Package rest is the slurm.Backend that talks to slurmrestd with JWT
// authentication: OpenAPI v0.0.38 (Slurm 22.05, tested live) and v0.0.40,
// v0.0.41 and v0.0.42 (Slurm 23.11 to 25.05, whose request bodies and
// answers are checked against the published OpenAPI documents kept under
// internal/slurm/testdata/openapi). With Options.APIVersion "" the version is
// detected once from GET /openapi/v3: the newest one both sides speak.
//
// Every request carries X-SLURM-USER-NAME and X-SLURM-USER-TOKEN, the token
// from Options.Token at each request (so that a renewed token is used). Jobs
// and FindByComment are one GET …/jobs each (one REQUEST_JOB_INFO RPC from
// slurmrestd to slurmctld); errors[] of an answer are surfaced with what to
// do about them.
//
// It must never log, return or put in an error the token; never follow a
// redirect (the token header would go along); never send an environment of
// the caller: the job's environment is exactly JobSpec.Env (slurmrestd's
// "environment", which a batch job must have: an empty Env is sent as
// ENVIRONMENT=BATCH, which slurmstepd sets in every batch job anyway).
package rest
