// Package testrun is the test stage: it runs the test command in the
// controlled environment the build stage uses (execenv: allow-listed
// variables, a fresh TMPDIR, no secrets unless named), or only collects the
// result files an earlier step wrote; reads them with package testresult;
// and makes an in-toto test-result v0.1 statement about every artifact of
// the build manifest, naming the commit, the command and each result file
// by digest, signed and recorded through attest.Predicate.
//
// It must never report PASSED for a run whose results it could not read
// completely (a malformed or truncated file is an error), for a run with no
// test cases, or for a command that failed; and never read a result file
// outside the workspace or one older than the command it ran. It knows
// nothing of GitHub Actions: the caller turns the Result into outputs,
// annotations and a summary.
package testrun
