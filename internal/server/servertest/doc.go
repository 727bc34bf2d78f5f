// Package servertest starts a real control plane in-process for the tests of
// its faces (the dashboard, say): internal/server on a SQLite store, a
// blob store and a transparency log in a temporary directory, on a
// loopback listener, with releases admitted through its own HTTP API as
// slipway upload sends them. It is for tests only and never fakes an
// answer: every release it admits was signed, uploaded and verified.
package servertest
