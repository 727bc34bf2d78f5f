package toolchain

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
)

// Outputs captured from the real tools.
func TestVersionParsers(t *testing.T) {
	t.Parallel()
	probe := map[string]Probe{}
	for _, p := range Default {
		probe[p.Name] = p
	}
	tests := []struct{ tool, out, want, uri string }{
		{"go", "go version go1.26.8 linux/amd64\n", "go1.26.8", "pkg:golang/toolchain@go1.26.8"},
		{"go", "go version go1.22rc1 darwin/arm64\n", "go1.22rc1", "pkg:golang/toolchain@go1.22rc1"},
		{"gcc", "gcc (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n", "12.2.0", "pkg:generic/gcc@12.2.0"},
		{"gcc", "Apple clang version 15.0.0 (clang-1500.1.0.2.5)\nTarget: arm64-apple-darwin23.2.0\n", "15.0.0", "pkg:generic/gcc@15.0.0"},
		{"rustc", "rustc 1.83.0 (90b35a623 2024-11-26)\n", "1.83.0", "pkg:generic/rustc@1.83.0"},
		{"cargo", "cargo 1.83.0 (5ffbef321 2024-10-29)\n", "1.83.0", "pkg:generic/cargo@1.83.0"},
		{"node", "v20.11.1\n", "20.11.1", "pkg:generic/node@20.11.1"},
		{"python3", "Python 3.11.2\n", "3.11.2", "pkg:generic/python@3.11.2"},
		{"java", "Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version \"17.0.13\" 2024-10-15\nOpenJDK Runtime Environment (build 17.0.13+11-Debian-2deb12u1)\n", "17.0.13", "pkg:generic/java@17.0.13"},
		{"make", "GNU Make 4.3\nBuilt for x86_64-pc-linux-gnu\n", "4.3", "pkg:generic/make@4.3"},
		{"make", "no version here\n", "", ""},
	}
	for _, tc := range tests {
		p := probe[tc.tool]
		got := p.Version(tc.out)
		if got != tc.want {
			t.Errorf("%s version of %q = %q, want %q", tc.tool, tc.out, got, tc.want)
		}
		if got != "" && p.URI(got) != tc.uri {
			t.Errorf("%s URI = %q, want %q", tc.tool, p.URI(got), tc.uri)
		}
	}
}

func script(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestDetectNeverFails runs probes against programs that answer, fail, hang
// or are missing: only the ones that answer are recorded.
func TestDetectNeverFails(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	script(t, bin, "good", `echo "good 1.2.3"`)
	script(t, bin, "cc", `echo "cc (Debian 12.2.0-14) 12.2.0"`)
	script(t, bin, "broken", `echo "broken 9.9" ; exit 3`)
	script(t, bin, "slow", `sleep 3600`) // without the time limit, the test would hang
	script(t, bin, "mute", `true`)
	probes := []Probe{
		{Name: "good", Programs: []string{"good"}, Version: firstVersion, URI: generic("good")},
		{Name: "gcc", Programs: []string{"gcc", "cc"}, Version: lastField, URI: generic("gcc")},
		{Name: "broken", Programs: []string{"broken"}, Version: firstVersion, URI: generic("broken")},
		{Name: "slow", Programs: []string{"slow"}, Version: firstVersion, URI: generic("slow")},
		{Name: "mute", Programs: []string{"mute"}, Version: firstVersion, URI: generic("mute")},
		{Name: "missing", Programs: []string{"missing"}, Version: firstVersion, URI: generic("missing")},
	}
	got := Detect(context.Background(), probes, Options{Dir: t.TempDir(), Env: []string{"PATH=" + bin}, Timeout: 300 * time.Millisecond})
	want := []artifact.Tool{
		{Name: "good", Version: "1.2.3", URI: "pkg:generic/good@1.2.3"},
		{Name: "gcc", Version: "12.2.0", URI: "pkg:generic/gcc@12.2.0"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Detect() = %+v, want %+v", got, want)
	}
}

// TestDetectRealGo finds the go that runs this test, on the real PATH.
func TestDetectRealGo(t *testing.T) {
	t.Parallel()
	got := Detect(context.Background(), Default[:1], Options{Dir: t.TempDir(), Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}})
	if len(got) != 1 || !strings.HasPrefix(got[0].Version, "go1.") || got[0].URI != "pkg:golang/toolchain@"+got[0].Version {
		t.Errorf("Detect(go) = %+v, want the go toolchain", got)
	}
}
