package toolchain

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
)

// Outputs captured from the real tools.
func TestVersionParsers(t *testing.T) {
	t.Parallel()
	tests := []struct{ tool, out, want, uri string }{
		{"go", "go version go1.26.8 linux/amd64\n", "go1.26.8", "pkg:golang/toolchain@go1.26.8"},
		{"go", "go version go1.22rc1 darwin/arm64\n", "go1.22rc1", "pkg:golang/toolchain@go1.22rc1"},
		{"gcc", "gcc (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n", "12.2.0", "pkg:generic/gcc@12.2.0"},
		{"gfortran", "GNU Fortran (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n", "12.2.0", "pkg:generic/gfortran@12.2.0"},
		{"cc", "Apple clang version 15.0.0 (clang-1500.1.0.2.5)\nTarget: arm64-apple-darwin23.2.0\n", "15.0.0", "pkg:generic/cc@15.0.0"},
		{"clang", "Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu\n", "14.0.6", "pkg:generic/clang@14.0.6"},
		{"rustc", "rustc 1.83.0 (90b35a623 2024-11-26)\n", "1.83.0", "pkg:generic/rustc@1.83.0"},
		{"cargo", "cargo 1.83.0 (5ffbef321 2024-10-29)\n", "1.83.0", "pkg:generic/cargo@1.83.0"},
		{"node", "v20.11.1\n", "20.11.1", "pkg:generic/node@20.11.1"},
		{"python3", "Python 3.11.2\n", "3.11.2", "pkg:generic/python@3.11.2"},
		{"java", "Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version \"17.0.13\" 2024-10-15\nOpenJDK Runtime Environment (build 17.0.13+11-Debian-2deb12u1)\n", "17.0.13", "pkg:generic/java@17.0.13"},
		{"make", "GNU Make 4.3\nBuilt for x86_64-pc-linux-gnu\n", "4.3", "pkg:generic/make@4.3"},
		{"mpicc", "gcc (Debian 12.2.0-14) 12.2.0\n", "12.2.0", "pkg:generic/mpicc@12.2.0"},
		{"make", "no version here\n", "", ""},
	}
	for _, tc := range tests {
		p := probeFor(tc.tool)
		got := p.Version(tc.out)
		if got != tc.want {
			t.Errorf("%s version of %q = %q, want %q", tc.tool, tc.out, got, tc.want)
		}
		if got != "" && p.URI(tc.tool, got) != tc.uri {
			t.Errorf("%s URI = %q, want %q", tc.tool, p.URI(tc.tool, got), tc.uri)
		}
	}
}

func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDescribe describes declared tools that answer, fail, hang or print
// no version: each is recorded by its executable's digest, with a version
// when it gave one and a warning when not; none fails the build.
func TestDescribe(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	script(t, bin, "good", `echo "good 1.2.3"`)
	script(t, bin, "gcc-12", `echo "gcc (Debian 12.2.0-14) 12.2.0"`)
	if err := os.Symlink("gcc-12", filepath.Join(bin, "gcc")); err != nil {
		t.Fatal(err)
	}
	script(t, bin, "broken", `echo "broken 9.9" ; exit 3`)
	script(t, bin, "slow", `exec /bin/sleep 3600`) // without the time limit, the test would hang
	script(t, bin, "mute", `true`)
	env := []string{"PATH=" + bin}
	declared, err := Find([]string{"good", "gcc", "broken", "slow", "mute"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if declared[1].Path != filepath.Join(bin, "gcc") || declared[1].Real != filepath.Join(bin, "gcc-12") {
		t.Errorf("gcc found at %+v, want the link and its target", declared[1])
	}
	start := time.Now()
	got, warnings, err := Describe(context.Background(), declared, Options{Dir: t.TempDir(), Env: env, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Describe took %s: the probes did not run concurrently under their time limit", d)
	}
	want := []struct{ name, version, uri, file string }{
		{"good", "1.2.3", "pkg:generic/good@1.2.3", "good"},
		{"gcc", "12.2.0", "pkg:generic/gcc@12.2.0", "gcc-12"},
		{"broken", "", "", "broken"},
		{"slow", "", "", "slow"},
		{"mute", "", "", "mute"},
	}
	if len(got) != len(want) {
		t.Fatalf("Describe() = %+v", got)
	}
	for i, w := range want {
		g := got[i]
		d, _, err := digest.File(filepath.Join(bin, w.file))
		if err != nil {
			t.Fatal(err)
		}
		if g.Name != w.name || g.Version != w.version || g.URI != w.uri || g.Executable == nil || g.Executable.Path != filepath.Join(bin, w.file) || g.Executable.Digest != d {
			t.Errorf("tool %d = %+v (%+v), want %s %q %q of %s %s", i, g, g.Executable, w.name, w.version, w.uri, w.file, d)
		}
	}
	if len(warnings) != 3 || !strings.Contains(strings.Join(warnings, "\n"), `toolchain "slow"`) || !strings.Contains(warnings[1], "did not answer within 300ms") {
		t.Errorf("warnings = %q, want one each for broken, slow and mute", warnings)
	}
}

// TestFind reports every missing toolchain at once, and refuses names that
// are neither program names nor absolute paths.
func TestFind(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	gcc := script(t, bin, "gcc", `echo "gcc 12.2.0"`)
	env := []string{"PATH=" + bin}
	if got, err := Find([]string{"gcc", gcc}, env); err != nil || len(got) != 2 || got[1].Name != "gcc" || got[1].Real != gcc {
		t.Errorf("Find(gcc, %s) = %+v, %v", gcc, got, err)
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"gfortran", "gcc", "nvcc"}, []string{`"gfortran", "nvcc" not found on the build command's PATH`, "remove them from toolchains"}},
		{[]string{"/opt/none/bin/gcc"}, []string{`"/opt/none/bin/gcc" is not an executable file`}},
		{[]string{"bin/gcc"}, []string{`"bin/gcc" is a relative path`}},
		{[]string{"/usr/bin/../bin/gcc"}, []string{`is not a clean absolute path; write it as "/usr/bin/gcc"`}},
		{[]string{"gcc", "gcc"}, []string{`"gcc" is listed twice`}},
		{[]string{" gcc"}, []string{`" gcc" is not a program name or path`}},
	}
	for _, tc := range tests {
		_, err := Find(tc.names, env)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Find(%q) = %v, want it to say %q", tc.names, err, w)
			}
		}
	}
}

// TestDescribeRealGo describes the go that runs this test, found on the
// real PATH.
func TestDescribeRealGo(t *testing.T) {
	t.Parallel()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	declared, err := Find([]string{"go"}, env)
	if err != nil {
		t.Skip(err)
	}
	got, _, err := Describe(context.Background(), declared, Options{Dir: t.TempDir(), Env: env})
	if err != nil || len(got) != 1 || !strings.HasPrefix(got[0].Version, "go1.") || got[0].URI != "pkg:golang/toolchain@"+got[0].Version {
		t.Errorf("Describe(go) = %+v, %v; want the go toolchain", got, err)
	}
}

// TestDescribeUnreadable: an executable that cannot be read is an error,
// not a silent gap.
func TestDescribeUnreadable(t *testing.T) {
	t.Parallel()
	_, _, err := Describe(context.Background(), []Declared{{Name: "gone", Path: "/nonexistent/gone", Real: "/nonexistent/gone"}}, Options{})
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `toolchain "gone"`) {
		t.Errorf("Describe(missing file) = %v", err)
	}
}

// FuzzCheckNames: a name CheckNames accepts is a plain program name or a
// clean absolute path.
func FuzzCheckNames(f *testing.F) {
	for _, s := range []string{"gcc", "/usr/bin/gcc", "bin/gcc", "../gcc", "/a/../b", "", " x", "a\x00b", ".", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckNames([]string{name}) != nil {
			return
		}
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "\x00\n") {
			t.Fatalf("accepted %q", name)
		}
		if strings.Contains(name, "/") && (!filepath.IsAbs(name) || filepath.Clean(name) != name) {
			t.Fatalf("accepted the path %q", name)
		}
	})
}
