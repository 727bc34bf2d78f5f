// Package sbom is the sbom stage: it catalogs one subject (a file, a
// directory, an OCI image layout or an image in a registry) with syft, used as
// a library, and writes a CycloneDX or SPDX JSON document bound to the
// subject's SHA-256 digest, so that an SBOM describes exactly one artifact.
//
// The subject's digest is what later stages sign and attest:
//   - a file: the SHA-256 of its bytes, taken from syft's own digest pass over
//     the file (this package does not read the file again);
//   - a directory: the SHA-256 of a sha256sum-format listing of every regular
//     file in the tree, sorted by path (see TreeDigest);
//   - an image (oci-layout:DIR or a registry reference): the image manifest
//     digest.
//
// For a dynamically linked ELF file, the shared libraries it loads (found
// as the build host's dynamic loader would find them) are added as the OS
// packages that own them, read from the host's dpkg and rpm databases with
// syft's catalogers (see docs/sbom.md).
//
// CycloneDX documents carry it in metadata.component.hashes, SPDX documents
// as a SHA256 checksum of the package the document DESCRIBES. Documents name
// a file or directory by its workspace-relative path, never by where the
// workspace is, so that a fixed creation time gives the same bytes anywhere.
//
// This package must never start a subprocess, run or load the subject,
// read LD_LIBRARY_PATH, contact a container daemon,
// fetch licenses or anything else from the network (only a registry subject
// is pulled, from its registry), write a partial document, or read a subject
// into memory: memory stays independent of the subject's size. It knows
// nothing of GitHub Actions.
package sbom
