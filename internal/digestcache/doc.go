// Package digestcache remembers the SHA-256 of files that Slipway read in
// full, keyed by each file's identity (device, inode, size, modification and
// change times), so that a file nobody has written since is not read again
// to learn its digest; and the registry repositories known to hold that
// content, so that a push to another repository of the same registry can
// mount the blob instead of uploading it (as the Docker daemon remembers
// where it pushed each layer).
//
// An entry is trusted only while the file's identity is the one recorded:
// every write changes the modification and change times, and an
// unprivileged user cannot set the change time back. A digest is stored
// only from a read during which the file did not change (the same identity
// before and after) and whose times are older than the read by more than
// the coarsest file-time granularity (RacyWindow), so that a write within
// the same clock tick as the one before it cannot go unnoticed.
//
// It must never return a digest for a file whose identity differs from the
// entry's, never be given a digest that was not computed from the file's
// bytes (callers store only what they hashed), and never stand in for
// reading where the bytes are the evidence (verify reads them). It fails
// open: a missing, unreadable or damaged entry is a miss, and an entry that
// cannot be written is skipped.
package digestcache
