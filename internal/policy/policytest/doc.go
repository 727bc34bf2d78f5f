// Package policytest makes what trust policy tests need, offline and fresh
// for every test: signing keys (ECDSA PEM, OpenPGP), Sigstore bundles and
// in-toto statements made by sigstore-go's sign package (real Sigstore
// bundles v0.3), and a private Sigstore with a clock the test controls
// (NewSigstore: package sigstoretest's, whose services speak the real
// formats: X.509 certificates with Fulcio's extensions, Rekor entries with
// signed entry timestamps and inclusion proofs, RFC 3161 responses).
//
// It is for tests only: it must never be imported by non-test code, and
// never write keys anywhere but the test's temporary directory.
package policytest
