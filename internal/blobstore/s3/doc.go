// Package s3 is a blobstore.Store in a bucket of an S3-compatible service
// (AWS S3, Ceph RGW, MinIO, versitygw): blobs under sha256/<hex>, for
// slipway serve --blobs s3://BUCKET?endpoint=…&region=…&path-style=true.
//
// How a blob becomes visible only once its digest matched: Put stages the
// content in a local file while hashing and counting it (the size limit,
// the announced digest), and only then sends it to its final key with a
// conditional write, If-None-Match: * — one PutObject carrying the
// SHA-256 (x-amz-checksum-sha256) for the service to check again, or, for
// blobs over the part size, a multipart upload whose parts carry their
// SHA-256 and which is completed, with If-None-Match: *, only after every
// part arrived (aborted on any failure: parts are never visible). Adopt
// sends a file the server's upload already received and hashed, without a
// second local copy. The alternative, uploading to a temporary key and
// copying it to the final one, was not chosen: in a bucket with a default
// Object Lock retention the temporary object could not be deleted, the
// copy doubles the service's I/O, and CopyObject has no If-None-Match.
// Local staging also gives SigV4 the seekable body it needs over plain
// HTTP. The same digest is stored once: a 412 answer means another writer
// stored the same bytes first (Blob.Existed).
//
// Reading: Open learns the size with HeadObject and reads with ranged
// GETs from wherever the reader was seeked to (http.ServeContent's Range
// requests). Object Lock: Options.Retention gives each new blob a
// retain-until date; without it the bucket's default retention applies;
// CheckWORM refuses a bucket that would not lock what is stored.
//
// It must never hold a whole blob in memory, never make a key visible
// before its content was checked, never overwrite or delete a stored
// blob, and never take credentials from anywhere but the SDK's standard
// sources (environment, shared config), nor log them.
package s3
