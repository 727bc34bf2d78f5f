// Package build is the build stage: it runs the user's build command in a
// controlled environment, finds the artifacts the globs name, digests each
// in one streaming pass (writing the deterministic archive and the image
// layer from that same pass), and writes the subjects file and the artifact
// manifest that every later stage reads.
//
// Layout of what it writes, relative to the workspace (OutputDir defaults to
// "dist"):
//
//	<output-dir>/manifest.json    the artifact set (artifact.Manifest) with Build info
//	<output-dir>/subjects.sha256  "<sha256 hex>  <name>" per artifact (sha256sum -c works)
//	<output-dir>/<archive>        the optional deterministic .tar.gz of all artifacts
//	<image-layout>                the optional OCI image layout (default <output-dir>/image)
//
// These files are never matched as artifacts themselves. The command runs
// with `bash --noprofile --norc -e -o pipefail -c` (or `sh -e -c` when bash
// is missing), like a GitHub `run:` step, in the workspace, with only the
// variables of execenv.Allowed plus those named in PassEnv, SOURCE_DATE_EPOCH
// set to the commit time and TMPDIR set to a fresh directory removed after.
//
// It must never hold an artifact in memory or read one twice, never leave a
// half-written output (a failure removes what this run wrote), never
// inherit a secret the user did not name, and never write to GitHub Actions
// itself: the caller reports outputs, groups and the summary.
package build
