package tools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Environment variables that this package reads.
const (
	// EnvRequire set to "1" turns every skip for a missing part into a test failure.
	EnvRequire = "SLIPWAY_REQUIRE_TOOLS"
	// EnvTools is the tool cache that scripts/setup fills; its bin directory is searched after PATH.
	EnvTools = "SLIPWAY_TOOLS"
)

// Require returns the absolute path of the command-line tool name, looked up on PATH and then in
// $SLIPWAY_TOOLS/bin. When it is missing, Require skips the test (naming scripts/setup), or fails it when
// SLIPWAY_REQUIRE_TOOLS=1; it does not return then.
func Require(t testing.TB, name string) string {
	t.Helper()
	path, err := defaultFinder.find(name)
	if err != nil {
		Unavailable(t, err.Error())
		return ""
	}
	return path
}

// Unavailable stops a test that cannot run because a real part it needs is missing: t.Skip, or t.Fatal when
// SLIPWAY_REQUIRE_TOOLS=1. reason says what is missing; Unavailable adds how to get it.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=1: missing parts fail tests; run scripts/setup)", reason, EnvRequire)
		return
	}
	t.Skipf("%s; scripts/setup installs it, scripts/test runs every test with it", reason)
}

// Required reports whether SLIPWAY_REQUIRE_TOOLS=1, that is whether a missing part must fail a test.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// Dir returns $SLIPWAY_TOOLS, or its default $HOME/.cache/slipway/tools.
func Dir() string { return defaultFinder.dir() }

// finder looks tools up; its operating-system touch points are fields so that tests can replace them.
type finder struct {
	getenv   func(string) string
	lookPath func(string) (string, error)
	homeDir  func() (string, error)
	isExec   func(string) bool
}

var defaultFinder = finder{
	getenv:   os.Getenv,
	lookPath: exec.LookPath,
	homeDir:  os.UserHomeDir,
	isExec:   isExecutable,
}

func (f finder) dir() string {
	if d := f.getenv(EnvTools); d != "" {
		return d
	}
	home, err := f.homeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "slipway", "tools")
}

func (f finder) find(name string) (string, error) {
	if p, err := f.lookPath(name); err == nil {
		return filepath.Abs(p)
	}
	if d := f.dir(); d != "" {
		p := filepath.Join(d, "bin", name)
		if f.isExec(p) {
			return filepath.Abs(p)
		}
		return "", fmt.Errorf("tool %q is not on PATH nor in %q", name, filepath.Join(d, "bin"))
	}
	return "", fmt.Errorf("tool %q is not on PATH", name)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
