// Package export writes an admitted release into a new directory with
// everything needed to verify it offline, months later, with slipway verify
// --manifest DIR/manifest.json and a trust policy whose log section names
// DIR/log.pub: the admitted manifest with one receipt record per artifact,
// every file the manifest records at its path, the release's receipt, the
// log's verifier key and a README.txt saying how to verify.
//
// It reads through a Source: a server's read API (HTTPSource, scope read)
// or a data directory of slipway serve (DataSource, offline, for admins).
// Every file is streamed to disk and its digest and size checked on
// arrival against the manifest, whose own digest is checked against the
// release's; the directory is built under a temporary name beside the
// output, fsynced, and renamed into place at the end.
//
// It must never write outside the output directory, never overwrite or
// merge into a directory that is not empty, never leave a half-written
// output behind, never keep a file whose digest it has not checked, and
// never write or log the token it reads with. It does not verify the
// release: slipway verify does, on what it wrote.
package export
