package cli

// Commands returns every stage command, in pipeline order.
func Commands() []Command {
	return []Command{
		&buildCommand{},    // run the build, digest the artifacts, write the manifest and subjects
		&testCommand{},     // run the tests (or collect their results) and attest the result about the artifacts
		&sbomCommand{},     // describe an artifact in an SBOM bound to its digest
		&scanCommand{},     // match the SBOMs against a local vulnerability database; sign the findings
		&signCommand{},     // sign the artifacts: Sigstore bundles, GPG signatures, image signatures in the registry
		&attestCommand{},   // attest the artifacts: SLSA provenance and SBOMs as signed in-toto statements
		&pushCommand{},     // put the artifacts in an OCI registry under an immutable tag, pinned by digest
		&uploadCommand{},   // hand the release to the control plane, which verifies and logs it; keep its receipt
		&dispatchCommand{}, // run an admitted release on Slurm: verify, submit, follow, attest the outputs
		&verifyCommand{},   // check signatures, provenance and SBOMs against a trust policy, offline
		&pullCommand{},     // the consumer's side: fetch a release by digest, verify it, then restore its files
		&pipelineCommand{}, // all of the above, in order, on one workspace (the root action)
		&reportCommand{},   // after the stages: a failure as one GitHub issue per stage and check, closed on a pass
		&publishCommand{},  // attach the release's files to the GitHub Release of a tag, idempotent per tag
	}
}
