// Package execenv builds the environment slipway gives to the processes it
// starts (the build command, toolchain probes, git): an allow-list of
// harmless variables plus the ones the user names, and a PATH lookup over
// that environment; and it runs a user's command there (Shell, Run: a
// process group of its own, stopped with it) with a fresh TMPDIR (TempDir),
// the one way the build and test stages run commands.
//
// It must never pass on a variable that looks like a credential unless the
// user named it, and never read the process environment itself: callers
// inject getenv.
package execenv
