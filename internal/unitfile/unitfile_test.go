package unitfile

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/tools"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var golden = []struct {
	file, unit string
	o          Options
}{
	{"serve.service", Serve, Options{}},
	{"runner.service", Runner, Options{}},
	// Paths under /home: ProtectHome=read-only instead of yes, so that ReadWritePaths can open them.
	{"runner-home.service", Runner, Options{User: "ci", RunnerDir: "/home/ci/actions-runner", WorkDir: "/home/shared/slipway", Path: "/opt/slurm/bin:/usr/local/bin:/usr/bin:/bin"}},
	// A data directory outside /var/lib: no StateDirectory, the directory named in ReadWritePaths.
	{"serve-srv.service", Serve, Options{Data: "/srv/slipway", Listen: "0.0.0.0:8443", Binary: "/opt/slipway/bin/slipway"}},
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, g := range golden {
		got, err := Render(g.unit, g.o)
		if err != nil {
			t.Fatalf("%s: %v", g.file, err)
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/unitfile -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file (go test ./internal/unitfile -update):\n%s", g.file, got)
		}
	}
}

// TestHardening checks what every unit must say, whatever the options.
func TestHardening(t *testing.T) {
	t.Parallel()
	for _, g := range golden {
		got, _ := Render(g.unit, g.o)
		for _, want := range []string{"\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nPrivateTmp=yes\n",
			"\nCapabilityBoundingSet=\n", "\nAmbientCapabilities=\n", "\nUser=", "\nReadWritePaths=/"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q", g.file, strings.TrimSpace(want))
			}
		}
		if strings.Contains(got, "User=root") {
			t.Errorf("%s runs as root", g.file)
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, unit string
		o          Options
		want       string
	}{
		{"unknown-unit", "dispatcher", Options{}, `unit "dispatcher": want one of serve, runner`},
		{"root", Serve, Options{User: "root"}, `user "root"`},
		{"user-with-space", Serve, Options{User: "a b"}, `user "a b"`},
		{"relative-data", Serve, Options{Data: "var/lib/slipway"}, `data "var/lib/slipway"`},
		{"specifier", Runner, Options{WorkDir: "/shared/%u"}, `workdir "/shared/%u"`},
		{"second-word", Serve, Options{Policy: "/etc/p.yaml --listen 0.0.0.0:1"}, `policy "/etc/p.yaml --listen 0.0.0.0:1"`},
		{"newline", Serve, Options{Binary: "/usr/bin/slipway\nExecStartPre=/bin/sh"}, `binary "/usr/bin/slipway\nExecStartPre=/bin/sh"`},
		{"unclean", Runner, Options{RunnerDir: "/opt/../etc"}, `runner-dir "/opt/../etc"`},
		{"root-dir", Runner, Options{WorkDir: "/"}, `workdir "/"`},
		{"listen", Serve, Options{Listen: "127.0.0.1:80 --policy /x"}, `listen "127.0.0.1:80 --policy /x"`},
		{"path", Runner, Options{Path: "/usr/bin:$HOME/bin"}, `path "/usr/bin:$HOME/bin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Render(tc.unit, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestSystemdAccepts has systemd's own parser (systemd-analyze verify) read each unit: no unknown directive, no
// bad value. The binaries named must exist for it, so the test points them at real files.
func TestSystemdAccepts(t *testing.T) {
	t.Parallel()
	analyze := tools.Require(t, "systemd-analyze")
	dir := t.TempDir()
	runnerDir := filepath.Join(dir, "actions-runner")
	if err := os.MkdirAll(runnerDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runnerDir, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, g := range golden {
		o := g.o
		o.Binary = "/bin/true"
		if g.unit == Runner {
			o.RunnerDir = runnerDir
		}
		text, err := Render(g.unit, o)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, FileName(g.unit))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(analyze, "verify", "--man=no", path)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
			t.Errorf("systemd-analyze verify %s (%s): %v\n%s", FileName(g.unit), g.file, err, out.String())
		}
	}
}
