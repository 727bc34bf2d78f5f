// Package scan is the scan stage's matching: it reads every SBOM an artifact
// manifest records (CycloneDX or SPDX JSON, as the sbom stage writes them),
// matches their packages against a local grype vulnerability database
// (schema v6, used as a library), and describes the findings three ways: an
// in-toto vulns v0.1 predicate (Predicate), a SARIF 2.1.0 log for GitHub code
// scanning (WriteSARIF) and a count by severity (Result.Counts).
//
// The database is only ever read from a local directory (see docs/scan.md for
// how a site mirrors it): this package never downloads, updates or writes a
// database, and refuses one whose checksum (import.json) does not match, whose
// schema is not v6, or which was built longer ago than the allowed age.
//
// Each SBOM is checked against the digest and size its manifest record
// states before anything is read from it. Matching uses packages' purls and
// versions only (no CPE guessing, no network: grype's Maven upstream search
// stays off).
//
// It must never sign (the caller attests Result.Predicate through
// internal/attest), write the manifest, reach the network, or know of GitHub
// Actions.
package scan
