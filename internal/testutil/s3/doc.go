// Package s3 gives a test a fresh bucket in the machine's real S3 service: the versitygw (POSIX backend) that
// scripts/setup starts once per machine on a loopback port, with root credentials it generated into a root-only
// file. [New] creates a bucket with a unique name (optionally with Object Lock and a default retention), and
// t.Cleanup empties and removes it; a test that cannot reach the service is skipped, or failed under
// SLIPWAY_REQUIRE_TOOLS=1.
//
// Bucket carries what a client needs: the endpoint, region, credentials, bucket name, an SDK configuration and
// client (aws-sdk-go-v2 with BaseEndpoint and path-style addressing), the s3:// URL slipway serve --blobs takes
// and the environment variables that carry the credentials to a child process.
//
// It is for tests only. It must never start, stop or configure the service (scripts/setup does), never print or
// log the credentials, never touch a bucket it did not create, and never be imported by non-test code.
package s3
