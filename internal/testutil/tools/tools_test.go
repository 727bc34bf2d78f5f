package tools

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records how a helper stopped the test; Skipf and Fatalf end the goroutine as the real ones do.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a fakeTB in its own goroutine, so that Goexit ends only fn.
func run(fn func(testing.TB) string) (*fakeTB, string) {
	f := &fakeTB{}
	var got string
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = fn(f)
	}()
	<-done
	return f, got
}

func TestFind(t *testing.T) {
	t.Parallel()
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	tests := []struct {
		name     string
		env      map[string]string
		lookPath func(string) (string, error)
		execs    []string
		want     string
		wantErr  string
	}{
		{
			name:     "on PATH wins",
			env:      map[string]string{EnvTools: "/cache"},
			lookPath: func(n string) (string, error) { return "/usr/bin/" + n, nil },
			execs:    []string{"/cache/bin/act"},
			want:     "/usr/bin/act",
		},
		{
			name:     "in SLIPWAY_TOOLS/bin",
			env:      map[string]string{EnvTools: "/cache"},
			lookPath: notFound,
			execs:    []string{"/cache/bin/act"},
			want:     "/cache/bin/act",
		},
		{
			name:     "default tool dir under HOME",
			lookPath: notFound,
			execs:    []string{"/home/dev/.cache/slipway/tools/bin/act"},
			want:     "/home/dev/.cache/slipway/tools/bin/act",
		},
		{
			name:     "missing",
			env:      map[string]string{EnvTools: "/cache"},
			lookPath: notFound,
			wantErr:  `tool "act" is not on PATH nor in "/cache/bin"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := finder{
				getenv:   func(k string) string { return tt.env[k] },
				lookPath: tt.lookPath,
				homeDir:  func() (string, error) { return "/home/dev", nil },
				isExec: func(p string) bool {
					for _, e := range tt.execs {
						if e == p {
							return true
						}
					}
					return false
				},
			}
			got, err := f.find("act")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("find() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("find() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The tests below change the process environment, so they do not run in parallel.

func TestRequireFindsToolInCache(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(bin, "slipway-fake-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvTools, dir)
	t.Setenv(EnvRequire, "1")

	f, got := run(func(tb testing.TB) string { return Require(tb, "slipway-fake-tool") })
	if f.skipped || f.failed {
		t.Fatalf("Require stopped the test: %s", f.msg)
	}
	if got != tool {
		t.Fatalf("Require() = %q, want %q", got, tool)
	}
}

func TestRequireMissing(t *testing.T) {
	for _, require := range []string{"", "1"} {
		t.Run("SLIPWAY_REQUIRE_TOOLS="+require, func(t *testing.T) {
			t.Setenv(EnvTools, t.TempDir())
			t.Setenv(EnvRequire, require)

			f, _ := run(func(tb testing.TB) string { return Require(tb, "slipway-no-such-tool") })
			if want := require == "1"; f.failed != want || f.skipped == want {
				t.Fatalf("failed=%v skipped=%v, want failed=%v", f.failed, f.skipped, want)
			}
			for _, s := range []string{`"slipway-no-such-tool"`, "scripts/setup"} {
				if !strings.Contains(f.msg, s) {
					t.Errorf("message %q does not name %s", f.msg, s)
				}
			}
		})
	}
}

func TestRequireRealTool(t *testing.T) {
	f, got := run(func(tb testing.TB) string { return Require(tb, "sh") })
	if f.skipped || f.failed {
		t.Fatalf("Require(sh) stopped the test: %s", f.msg)
	}
	if !filepath.IsAbs(got) {
		t.Fatalf("Require(sh) = %q, want an absolute path", got)
	}
}
