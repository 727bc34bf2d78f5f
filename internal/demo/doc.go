// Package demo sets up what `slipway demo` runs the pipeline on: an embedded
// sample project written to a work directory (a git repository when git is
// installed, so that the commit is recorded), a throwaway cosign key pair,
// an OCI registry served in-process on a loopback port, a grype vulnerability
// database holding only the demo's own records (labelled as not real
// advisories), and a trust policy that trusts exactly that key and this
// machine's local builder and judges the scan's findings.
//
// It must never touch anything outside the work directory it is given, and
// never leave the private key or its password behind: the password lives
// only in memory and the key file is removed by Close.
package demo
