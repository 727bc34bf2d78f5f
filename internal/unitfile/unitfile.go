package unitfile

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// Options are the site's choices; Render fills in the defaults below for what is empty.
type Options struct {
	// Binary is the slipway binary (default /usr/local/bin/slipway).
	Binary string
	// User runs the service: default "slipway" for serve, "slipway-runner" for the runner. Its group has the same
	// name.
	User string
	// Data is slipway serve's data directory (default /var/lib/slipway).
	Data string
	// Listen is slipway serve's address (default 127.0.0.1:8080).
	Listen string
	// Policy is slipway serve's trust policy (default /etc/slipway/policy.yaml).
	Policy string
	// RunnerDir is where the GitHub Actions runner is unpacked and configured (default /opt/actions-runner).
	RunnerDir string
	// WorkDir is the runner's directory on the shared filesystem, where releases are staged and jobs run
	// (default /shared/slipway).
	WorkDir string
	// Path is the runner's PATH: where slipway and the Slurm commands are (default
	// /usr/local/bin:/usr/bin:/bin).
	Path string
}

// The units Render knows.
const (
	Serve  = "serve"  // slipway-serve.service
	Runner = "runner" // slipway-runner.service: the GitHub Actions runner that runs slipway dispatch
)

// Names lists the units, for help texts.
var Names = []string{Serve, Runner}

// FileName is the file name a unit is installed as under /etc/systemd/system.
func FileName(unit string) string { return "slipway-" + unit + ".service" }

var (
	userRE   = lazyregexp.New(`^[a-z_][a-z0-9_-]{0,31}$`)
	listenRE = lazyregexp.New(`^[A-Za-z0-9.:\[\]-]+$`)
	// pathRE: what a path may hold in a unit without quoting: no space, quote, backslash, $ or % (specifiers).
	pathRE = lazyregexp.New(`^/[A-Za-z0-9._+@/-]*$`)
)

// Render returns the unit file for unit (Serve or Runner) with o.
func Render(unit string, o Options) (string, error) {
	switch unit {
	case Serve:
		o.User = or(o.User, "slipway")
	case Runner:
		o.User = or(o.User, "slipway-runner")
	default:
		return "", fmt.Errorf("unit %q: want one of %s", unit, strings.Join(Names, ", "))
	}
	o.Binary = or(o.Binary, "/usr/local/bin/slipway")
	o.Data = or(o.Data, "/var/lib/slipway")
	o.Listen = or(o.Listen, "127.0.0.1:8080")
	o.Policy = or(o.Policy, "/etc/slipway/policy.yaml")
	o.RunnerDir = or(o.RunnerDir, "/opt/actions-runner")
	o.WorkDir = or(o.WorkDir, "/shared/slipway")
	o.Path = or(o.Path, "/usr/local/bin:/usr/bin:/bin")
	if err := o.check(); err != nil {
		return "", err
	}
	if unit == Serve {
		return serve(o), nil
	}
	return runner(o), nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (o Options) check() error {
	if !userRE.MatchString(o.User) || o.User == "root" {
		return fmt.Errorf("user %q: want a system user's name ([a-z_][a-z0-9_-]*, at most 32 characters), not root", o.User)
	}
	if !listenRE.MatchString(o.Listen) {
		return fmt.Errorf("listen %q: want host:port", o.Listen)
	}
	for _, p := range []struct{ name, v string }{{"binary", o.Binary}, {"data", o.Data}, {"policy", o.Policy},
		{"runner-dir", o.RunnerDir}, {"workdir", o.WorkDir}} {
		if !pathRE.MatchString(p.v) || filepath.Clean(p.v) != p.v || p.v == "/" {
			return fmt.Errorf("%s %q: want an absolute, clean path of letters, digits and ._+@-/ only (no spaces, $ or %%), not /", p.name, p.v)
		}
	}
	for _, d := range strings.Split(o.Path, ":") {
		if !pathRE.MatchString(d) {
			return fmt.Errorf("path %q: want absolute directories separated by colons", o.Path)
		}
	}
	return nil
}

// underHome reports whether a path is under what ProtectHome=yes hides.
func underHome(paths ...string) bool {
	for _, p := range paths {
		for _, h := range []string{"/home", "/root", "/run/user"} {
			if p == h || strings.HasPrefix(p, h+"/") {
				return true
			}
		}
	}
	return false
}

// hardening is what both units share: no privileges, a read-only system, nothing of the kernel.
func hardening(b *strings.Builder, writable []string) {
	home := "yes"
	if underHome(writable...) {
		home = "read-only" // ReadWritePaths below opens the directories the service writes
	}
	fmt.Fprintf(b, `# Hardening: no privileges, a read-only system except ReadWritePaths, nothing of the kernel.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=%s
ReadWritePaths=%s
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RemoveIPC=yes
SystemCallArchitectures=native
`, home, strings.Join(writable, " "))
}
