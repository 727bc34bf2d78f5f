// Package policytest makes what trust policy tests need, offline and fresh
// for every test: signing keys (ECDSA PEM, OpenPGP), and a private Sigstore
// (a Fulcio-like certificate authority, a Rekor-like transparency log, an
// RFC 3161 timestamp authority) with its trusted_root.json, whose clock the
// test controls. Bundles are made by sigstore-go's sign package, so they are
// real Sigstore bundles v0.3; only the services behind it are stand-ins,
// speaking the same formats (X.509 certificates with Fulcio's extensions,
// Rekor entries with signed entry timestamps and inclusion proofs, RFC 3161
// responses).
//
// It is for tests only: it must never be imported by non-test code, and
// never write keys anywhere but the test's temporary directory.
package policytest
