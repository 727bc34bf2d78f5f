// Package registry starts a real OCI registry for a test: Debian's docker-registry (the CNCF distribution
// registry, 2.8) as a child process on a free loopback port, with its own configuration and storage in the
// test's temporary directory, stopped when the test ends; optionally with basic authentication (WithHtpasswd).
// PushRandomImage puts a small image in it for tests that need one.
//
// Containers that act starts can reach it at the same address when they share the host network (act
// --container-options "--network host"; see e2e/README.md).
//
// It is for tests only. It must never listen on anything but loopback, never use a fixed port or shared
// storage, never leave its process running after the test, and never be imported by non-test code.
package registry
