//go:build linux

package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/testutil/noptrace"
)

// realPath is the file name runs, as the kernel finds it.
func realPath(t *testing.T, name string) string {
	t.Helper()
	p := name
	if !filepath.IsAbs(p) {
		var err error
		if p, err = exec.LookPath(name); err != nil {
			t.Skipf("%s is not installed: %v", name, err)
		}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

// TestTracedBuild builds a C program with a shell script running gcc,
// traced, with gcc declared: the manifest records the shell, gcc, cc1, the
// assembler, collect2 and the linker with the digests of their files, and
// the declared gcc with its version; node and python3, installed but not
// run, appear nowhere, and the provenance lists what the manifest does.
func TestTracedBuild(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{
		"hello.c":   "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
		"build.sh*": "#!/bin/sh\nset -e\nmkdir -p dist\ngcc -O2 -c -o hello.o hello.c\ngcc -o dist/hello hello.o\n",
	})
	var progs []string
	for _, p := range []string{"cc1", "collect2"} {
		out, err := exec.Command("gcc", "-print-prog-name="+p).Output()
		if err != nil {
			t.Skipf("gcc: %v", err)
		}
		progs = append(progs, realPath(t, strings.TrimSpace(string(out))))
	}
	want := append([]string{realPath(t, "/bin/sh"), realPath(t, "gcc"), realPath(t, "as"), realPath(t, "ld")}, progs...)

	o := options(dir, "dist/hello")
	o.Command, o.Toolchains, o.Trace = "./build.sh", []string{"gcc"}, true
	res := run(t, o)
	b := res.Manifest.Build
	if !b.Traced {
		t.Fatal("the manifest does not say the build was traced")
	}
	got := map[string]artifact.Executable{}
	for _, e := range b.Executed {
		got[e.Path] = e
	}
	for _, p := range want {
		e, ok := got[p]
		if !ok {
			t.Errorf("%s is not among the executables the build ran: %v", p, b.Executed)
			continue
		}
		if d, _, err := digest.File(p); err != nil || e.Digest != d {
			t.Errorf("%s recorded with digest %s, the file's is %s (%v)", p, e.Digest, d, err)
		}
	}
	for _, name := range []string{"node", "python3", "java"} {
		if p, err := exec.LookPath(name); err == nil {
			real, _ := filepath.EvalSymlinks(p)
			if _, ok := got[real]; ok {
				t.Errorf("%s (%s) did not run but is recorded", name, real)
			}
		}
	}
	if len(b.Toolchains) != 1 || b.Toolchains[0].Name != "gcc" || b.Toolchains[0].Version == "" || b.Toolchains[0].Executable == nil ||
		b.Toolchains[0].Executable.Path != realPath(t, "gcc") {
		t.Errorf("toolchains = %+v, want the declared gcc with its version and executable", b.Toolchains)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings = %q", res.Warnings)
	}

	// The provenance lists the executables with their digests, and nothing
	// that did not run.
	st, err := provenance.New(provenance.Options{Subjects: res.Manifest.Subjects(), Build: b, Builder: &provenance.Builder{ID: provenance.LocalBuilderID}})
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]string{}
	for _, v := range st.GetPredicate().GetFields()["buildDefinition"].GetStructValue().GetFields()["resolvedDependencies"].GetListValue().GetValues() {
		f := v.GetStructValue().GetFields()
		deps[f["uri"].GetStringValue()] = f["digest"].GetStructValue().GetFields()["sha256"].GetStringValue()
	}
	for _, p := range want {
		if deps["file://"+p] != got[p].Digest.Hex() {
			t.Errorf("provenance dependency file://%s has digest %q, want %s", p, deps["file://"+p], got[p].Digest.Hex())
		}
	}
	if len(deps) != len(b.Executed)+1 {
		t.Errorf("provenance has %d dependencies, want the %d executables and gcc: %v", len(deps), len(b.Executed), deps)
	}
}

// TestTraceUnusedToolchain warns about a declared toolchain the traced
// command never ran.
func TestTraceUnusedToolchain(t *testing.T) {
	t.Parallel()
	dir := workspace(t, nil)
	o := options(dir, "dist/a")
	o.Command, o.Toolchains, o.Trace = "mkdir -p dist && echo a > dist/a", []string{"gcc"}, true
	realPath(t, "gcc")
	res := run(t, o)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `toolchain "gcc"`) || !strings.Contains(res.Warnings[0], "never ran it") {
		t.Errorf("warnings = %q, want one about gcc", res.Warnings)
	}
}

// TestTraceRefused: where ptrace is refused (a seccomp filter, as in a
// container that does not allow it), a build with trace fails before its
// command runs and says how to build without trace.
func TestTraceRefused(t *testing.T) {
	if !noptrace.Run(t) {
		return
	}
	dir := workspace(t, nil)
	o := options(dir, "dist/a")
	o.Command, o.Trace = "mkdir -p dist && echo a > dist/a", true
	_, err := Run(context.Background(), o)
	if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "trace: the build command cannot be traced here: ptrace is not permitted here (operation not permitted)") ||
		!strings.Contains(err.Error(), "set trace to false to build untraced") {
		t.Fatalf("Run() = %v (code %v)", err, exitcode.Of(err))
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "a")); err == nil {
		t.Error("the command ran although it could not be traced")
	}
}
