// Package gpgsign makes OpenPGP detached, ASCII-armored signatures (what
// "gpg --armor --detach-sign" writes, verified by "gpg --verify") with
// ProtonMail/go-crypto, from an armored secret key held in memory.
//
// OpenPGP hashes the data and then a trailer, so a signature needs the
// running hash state after the data, not a digest. For the usual keys (v4,
// SHA-256) SignSHA256 takes a clone of the artifact's SHA-256 state, so one
// pass over an artifact gives both its digest and its OpenPGP signature;
// other keys stream the data through a Detached signature's Write.
//
// The key and passphrase are secrets: this package must never log them,
// write them to a file or put them in an error message, and never reads an
// artifact itself.
package gpgsign
