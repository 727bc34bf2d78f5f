// Package browsertest holds the dashboard's tests in a real browser and its server-time benchmark; it has no code
// of its own outside its tests.
//
// The tests start a real `slipway serve --slurm cli` (this test binary run as slipway, as the compute node runs it
// too) on a data directory with admitted releases (key-signed, with SBOMs), one refused release (an artifact
// changed after signing), a Slurm job of the machine's cluster printing lines for a few seconds, and tokens of
// several scopes; then one headless Chromium (internal/testutil/chromium) signs in with those tokens and opens
// every page in tabs of its own. `go test ./internal/dashboard/browsertest -update` also writes the screenshots of
// the main pages into docs/dashboard/; CI never does.
//
// BenchmarkDashboardPages times each page's answer against a store of 100,000 seeded releases
// (internal/testutil/servetest), for scripts/bench's section dashboard.
//
// It must never be imported (it is a package for its tests), never write into the repository except with -update,
// and never touch a Slurm job it did not submit.
package browsertest
