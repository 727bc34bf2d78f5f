// Package ghreport is Slipway's GitHub failure reporter: when a pipeline
// stage or a dispatched Slurm job fails, it keeps one open GitHub issue per
// failing stage and fingerprint (repository, workflow, stage, first failed
// check), comments on it when the same failure comes back instead of
// opening a duplicate, and closes it when the stage passes again. It also
// mirrors a Slurm job as a GitHub Deployment with statuses (Deployments).
//
// It reads what the stages already write (slipway verify's JSON report,
// test result files through internal/testresult, a job's end as dispatch
// reports it) and a log excerpt, and everything it sends is masked first
// (known secret values, then token, key and credential patterns).
//
// It sits over the stages (a face): it may import verify and testresult,
// nothing below it may import it. It must never print or send a secret,
// never open a second issue for a fingerprint that has an open one, never
// touch an issue that lacks its marker, and never decide a stage's outcome:
// the caller says failure or success.
package ghreport
