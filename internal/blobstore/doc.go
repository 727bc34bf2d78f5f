// Package blobstore keeps artifacts by content: a blob's name is its SHA-256
// digest, so the same bytes are stored once and a stored blob never changes.
//
// Store is the interface admission and the read API use; FS is the embedded
// default (DATA/blobs/sha256/<hex>, files made read-only once complete);
// package blobstore/s3 keeps them in an S3 bucket. Receive is the hashing,
// limited copy both do before a blob gets its name.
//
// Put hashes while it receives, writes to a temporary file in the blob
// directory, fsyncs it, checks the digest and the size limit, and only then
// renames it into place: a blob is visible only once complete and matching.
// It must never hold a whole blob in memory, never leave a partial file
// behind (full disk, limit, mismatch, cancellation), and never overwrite or
// delete a stored blob.
package blobstore
