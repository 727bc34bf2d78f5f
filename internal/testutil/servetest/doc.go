// Package servetest gives benchmarks and tests outside internal/cli a real `slipway serve` process and a SQLite
// store seeded with many releases: [Seed] records n synthetic releases straight into a data directory's embedded
// store (what the 100,000-release benchmarks of the MCP server and the dashboard measure against), [Start] runs a
// slipway binary's serve on a free loopback port and returns its URL once it serves.
//
// It is for tests and benchmarks only. It must never write outside the data directory it is given, never keep a
// process running after the test ends, and never be imported by non-test code.
package servetest
