// Package tools finds the real command-line tools that tests drive (act, cosign, syft, docker-registry, ...).
//
// scripts/setup installs them: Debian packages on PATH, Go-built tools in $SLIPWAY_TOOLS/bin (by default
// $HOME/.cache/slipway/tools/bin). A test that needs one calls [Require]; a test that needs some other real part
// (a service, a socket) and finds it missing calls [Unavailable]. Both skip the test on a developer's machine
// that lacks the part and fail it when SLIPWAY_REQUIRE_TOOLS=1, which scripts/test sets, so CI cannot go green
// by skipping.
//
// It is for tests only. It must never install, build or download anything (that is scripts/setup's job), never
// change the environment or PATH, and never be imported by non-test code.
package tools
