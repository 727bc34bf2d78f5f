// Package digest computes SHA-256 digests of artifacts in one streaming pass.
//
// Artifacts can be many gigabytes: this package must never hold a whole
// artifact in memory and never read a file twice to learn its digest.
package digest
