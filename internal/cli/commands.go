package cli

// Commands returns every stage command, in pipeline order.
func Commands() []Command {
	return []Command{
		&sbomCommand{},   // describe an artifact in an SBOM bound to its digest
		&signCommand{},   // sign the artifacts: Sigstore bundles, GPG signatures, image signatures in the registry
		&attestCommand{}, // attest the artifacts: SLSA provenance and SBOMs as signed in-toto statements
		&pushCommand{},   // put the artifacts in an OCI registry under an immutable tag, pinned by digest
	}
}
