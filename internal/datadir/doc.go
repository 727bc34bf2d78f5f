// Package datadir is the layout of the control plane's data directory
// (--data DIR) on the embedded defaults, in one place, so that
// "slipway serve" and "slipway token" agree on it:
//
//	DIR/db.sqlite         metadata (package store/sqlite), with -wal and -shm beside it while open
//	DIR/blobs/sha256/<hex> artifacts, content-addressed and read-only (package blobstore), unless --blobs s3://…
//	DIR/uploads/, staging/ uploads in progress, releases being checked (package server)
//	DIR/incoming/         blobs being checked before they go to an S3 bucket (package blobstore/s3)
//	DIR/log/              the transparency log's tiles and checkpoint (package tlog)
//	DIR/log.key, log.pub  the log's checkpoint signing key and verifier key (tlog's default)
//
// It must never hold logic beyond paths and opening the store: what lives
// in each place is its owning package's business.
package datadir
