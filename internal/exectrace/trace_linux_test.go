//go:build linux

package exectrace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/noptrace"
)

// runScript runs script with /bin/sh, traced, in dir.
func runScript(t *testing.T, ctx context.Context, dir, script string) *Result {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	res, err := Run(ctx, Command{
		Path: "/bin/sh", Args: []string{"sh", "-e", "-c", script}, Dir: dir,
		Env:   []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()},
		Stdin: null, Stdout: out, Stderr: out, Grace: time.Second,
	})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if b, _ := os.ReadFile(out.Name()); t.Failed() || !res.Status.Exited() || res.Status.ExitStatus() != 0 {
		t.Logf("command output:\n%s", b)
	}
	return res
}

// resolved is the file a program name runs, as the kernel will find it.
func resolved(t *testing.T, name string) string {
	t.Helper()
	p := name
	if !filepath.IsAbs(name) {
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

// gccProg is the path gcc runs for one of its programs (cc1, collect2).
func gccProg(t *testing.T, prog string) string {
	t.Helper()
	out, err := exec.Command("gcc", "-print-prog-name="+prog).Output()
	if err != nil {
		t.Skipf("gcc -print-prog-name=%s: %v", prog, err)
	}
	return resolved(t, strings.TrimSpace(string(out)))
}

func byPath(execs []Exec) map[string]Exec {
	m := map[string]Exec{}
	for _, e := range execs {
		m[e.Path] = e
	}
	return m
}

// TestTraceGCCBuild traces a real C build run by a shell script: the shell,
// the gcc driver, cc1, the assembler, collect2 and the linker appear, each
// with the digest of its file, and node and python3, installed but not run,
// do not.
func TestTraceGCCBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.c"), []byte("#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{resolved(t, "/bin/sh"), resolved(t, "gcc"), gccProg(t, "cc1"), resolved(t, "as"), gccProg(t, "collect2"), resolved(t, "ld")}
	res := runScript(t, context.Background(), dir, "gcc -O2 -o hello hello.c\n./hello > hello.out")
	if !res.Status.Exited() || res.Status.ExitStatus() != 0 {
		t.Fatalf("status %v", res.Status)
	}
	got := byPath(res.Execs)
	for _, p := range append(want, filepath.Join(dir, "hello")) {
		e, ok := got[p]
		if !ok {
			t.Errorf("%s is not among the traced executables %v", p, paths(res.Execs))
			continue
		}
		d, n, err := digest.File(p)
		if err != nil {
			t.Fatal(err)
		}
		if e.Digest != d || e.Size != n {
			t.Errorf("%s: traced digest %s (%d bytes), the file's is %s (%d bytes)", p, e.Digest, e.Size, d, n)
		}
	}
	for _, name := range []string{"node", "python3", "java"} {
		if p, err := exec.LookPath(name); err == nil {
			real, _ := filepath.EvalSymlinks(p)
			if _, ran := got[real]; ran {
				t.Errorf("%s (%s) was not run but is traced", name, real)
			}
		}
	}
	if len(res.Unreadable) > 0 {
		t.Errorf("unreadable: %v", res.Unreadable)
	}
}

// TestTraceGoBuild traces go build: the go command and the compile and link
// tools it runs appear.
func TestTraceGoBuild(t *testing.T) {
	t.Parallel()
	goBin := resolved(t, "go")
	dir := t.TempDir()
	// A main package of its own, so that compile runs for it even with the
	// shared build cache; link always runs.
	main := fmt.Sprintf("package main\n\nfunc main() { println(%q) }\n", dir)
	for name, body := range map[string]string{"go.mod": "module example.com/hello\n\ngo 1.22\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	toolDir, err := exec.Command("go", "env", "GOTOOLDIR").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	res := runScript(t, context.Background(), dir, "GOCACHE="+strings.TrimSpace(string(cache))+" GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -o hello .")
	got := byPath(res.Execs)
	for _, p := range []string{goBin, filepath.Join(strings.TrimSpace(string(toolDir)), "compile"), filepath.Join(strings.TrimSpace(string(toolDir)), "link")} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s is not among the traced executables %v", p, paths(res.Execs))
		}
	}
}

func paths(execs []Exec) []string {
	var out []string
	for _, e := range execs {
		out = append(out, e.Path)
	}
	return out
}

// TestTraceStatus passes the command's exit status and signals through.
func TestTraceStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		script string
		check  func(syscall.WaitStatus) bool
	}{
		{"exit 3", func(ws syscall.WaitStatus) bool { return ws.Exited() && ws.ExitStatus() == 3 }},
		{"exec no-such-program-here", func(ws syscall.WaitStatus) bool { return ws.Exited() && ws.ExitStatus() == 127 }},
		{"kill -USR1 $$", func(ws syscall.WaitStatus) bool { return ws.Signaled() && ws.Signal() == syscall.SIGUSR1 }},
		// A handled signal reaches the handler: the tracer delivers it as sent.
		{"trap 'exit 7' USR1; kill -USR1 $$; sleep 5", func(ws syscall.WaitStatus) bool { return ws.Exited() && ws.ExitStatus() == 7 }},
		// Stop and continue a child: job control does not wedge the trace.
		{"sleep 0.2 & kill -STOP $!; kill -CONT $!; wait", func(ws syscall.WaitStatus) bool { return ws.Exited() && ws.ExitStatus() == 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, context.Background(), t.TempDir(), tc.script)
			if !tc.check(res.Status) {
				t.Errorf("status of %q = %#x (exited %v code %d, signaled %v %v)", tc.script, res.Status, res.Status.Exited(), res.Status.ExitStatus(), res.Status.Signaled(), res.Status.Signal())
			}
		})
	}
}

// TestTraceLeftoverRunsOn: a background process the command does not wait
// for is detached when the command ends, and runs on to its end: neither
// it nor a child it had just forked is left stopped.
func TestTraceLeftoverRunsOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	// It forks all the time, so that the command ends while one of its
	// children is just created, with the SIGSTOP of its attach queued.
	runScript(t, context.Background(), dir, "(i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done; /bin/sh -c 'echo done > "+marker+"') >/dev/null 2>&1 & /bin/true; /bin/true")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(b)) == "done" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the background process never finished: it was left stopped")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTraceCancel stops the command's process group when the context ends.
func TestTraceCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := runScript(t, ctx, t.TempDir(), "sleep 60 & wait")
	if !res.Status.Signaled() || res.Status.Signal() != syscall.SIGTERM {
		t.Errorf("status = %#x, want killed by SIGTERM", res.Status)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the command stopped after %s", d)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	if err := Check(); err != nil {
		if errors.Is(err, ErrNotPermitted) {
			t.Skipf("ptrace is not permitted on this machine: %v", err)
		}
		t.Fatal(err)
	}
}

// TestCheckRefused: where the kernel refuses ptrace (here a seccomp filter,
// as a container's profile would), Check and Run say so, and Run starts
// nothing.
func TestCheckRefused(t *testing.T) {
	if !noptrace.Run(t) {
		return
	}
	if err := Check(); !errors.Is(err, ErrNotPermitted) {
		t.Fatalf("Check() = %v, want ErrNotPermitted", err)
	}
	dir := t.TempDir()
	_, err := Run(context.Background(), Command{Path: "/bin/sh", Args: []string{"sh", "-c", "touch ran"}, Dir: dir, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if !errors.Is(err, ErrNotPermitted) || !strings.Contains(err.Error(), "operation not permitted") {
		t.Errorf("Run() = %v, want ErrNotPermitted", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the command ran although it could not be traced")
	}
}
