// Package receipt reads, writes and checks Slipway log receipts: C2SP
// tlog-proof documents (https://c2sp.org/tlog-proof, "c2sp.org/tlog-proof@v1")
// that prove an entry is in the log, offline, from the receipt and the log's
// note verifier key alone.
//
// A receipt is the proof's text exactly as the spec lays it out:
//
//	c2sp.org/tlog-proof@v1
//	extra <base64 of the canonical log entry>
//	index <zero-based index of the entry>
//	<base64 SHA-256 inclusion proof hashes, leaf's sibling first, one a line>
//	<empty line>
//	<the log's signed checkpoint (c2sp.org/tlog-checkpoint), verbatim>
//
// Slipway always fills the optional extra line with the logged entry's bytes
// (package entry), so that `slipway verify` can check, years later and with
// nothing but the receipt file and the log key, that the logged entry names
// the artifact and digest being verified. The spec says extra data must not
// be trusted implicitly, and it is not: Verify hashes it as the RFC 6962 leaf
// and checks the inclusion proof against the signed checkpoint, so an
// altered entry fails the proof. A caller that holds the entry separately can
// pass it to Verify too; it must then be the same bytes.
//
// A receipt is at most MaxSize bytes. The entry it carries is at most
// entry.MaxSize (32 KiB, under tlog-tiles' 65535-byte limit) so that its
// base64 fits on one line of the parser in transparency-dev/formats/proof,
// which reads lines of at most 64 KiB.
//
// It must never trust a receipt's checkpoint, index or entry before the
// signature and the inclusion proof are checked, never reach the network,
// and never accept a receipt that is not byte for byte in the form it writes.
package receipt
