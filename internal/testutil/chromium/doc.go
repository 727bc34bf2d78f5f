// Package chromium gives a test a real headless Chromium (Debian's chromium package, /usr/bin/chromium, which
// scripts/setup installs through scripts/setup.d/chromium.sh) driven with chromedp over the DevTools protocol.
//
// [Start] starts one browser for a test (and its subtests: start it once per package run, it is the slow part),
// [Browser.Tab] opens a tab in a browser context of its own (its own cookies: a person of its own) that records what a person would see in the browser's console as going wrong: console
// errors, uncaught exceptions, Content-Security-Policy violations and the browser's own error log (a resource that
// failed to load). A test asserts none with [Tab.NoProblems], or reads them with [Tab.Problems].
//
// A test that finds no browser is skipped on a developer's machine and failed under SLIPWAY_REQUIRE_TOOLS=1
// (internal/testutil/tools), so that CI cannot go green by skipping.
//
// It is for tests only. It must never install or download a browser (scripts/setup does), never reach anything
// but the URLs a test gives it (no sync, no background networking, a fresh profile per browser removed at the
// end), never run with the sandbox off except as root (where Chromium refuses to start with it), and never be
// imported by non-test code.
package chromium
