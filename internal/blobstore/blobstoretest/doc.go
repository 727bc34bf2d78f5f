// Package blobstoretest is the conformance suite of blobstore.Store: every
// implementation (the filesystem's, an S3 bucket's) runs Run, so that they
// keep the same contract: content-addressed, stored once, visible only
// once checked, readable by range, the same typed errors.
//
// It is for tests only and must never be imported by non-test code.
package blobstoretest
