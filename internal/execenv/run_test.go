package execenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func shellFor(t *testing.T, script string) []string {
	t.Helper()
	argv, err := Shell(script, []string{"PATH=/usr/bin:/bin"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

// TestRun: exit codes and signals come back as an Exit, output goes where
// it is sent, and the environment is exactly the one given.
func TestRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		script string
		want   Exit
		out    string
	}{
		{"echo out; echo err >&2", Exit{}, "out\nerr\n"},
		{"exit 3", Exit{Code: 3}, ""},
		{"kill -TERM $$", Exit{Code: -1, Signal: "terminated"}, ""},
		{`echo "${SECRET_TOKEN:-unset} $FOO"`, Exit{}, "unset bar\n"},
	} {
		var out bytes.Buffer
		exit, err := Run(context.Background(), Command{Argv: shellFor(t, tc.script), Dir: t.TempDir(), Env: []string{"PATH=/usr/bin:/bin", "FOO=bar"}, Stdout: &out, Stderr: &out})
		if err != nil || exit != tc.want || out.String() != tc.out || exit.OK() != (tc.want == Exit{}) {
			t.Errorf("Run(%q) = %+v, %v, output %q; want %+v, %q", tc.script, exit, err, out.String(), tc.want, tc.out)
		}
	}
	if _, err := Run(context.Background(), Command{Argv: []string{filepath.Join(t.TempDir(), "missing")}}); err == nil || !strings.Contains(err.Error(), "starting") {
		t.Errorf("Run(missing program) error = %v", err)
	}
}

// TestRunCancelled: a cancelled command's whole process group goes,
// including a child that outlives its shell.
func TestRunCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, Command{Argv: shellFor(t, "sleep 30 & echo $! > child.pid; wait"), Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}, Grace: time.Second})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("Run() error = %v, want stopped", err)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL is delivered asynchronously: the child may need a moment to
	// die after Run returns (CI once saw it still running at once).
	stat := "/proc/" + strings.TrimSpace(string(pid)) + "/stat"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		status, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(status), ") Z ") {
			return // gone, or dead and not yet reaped by its new parent
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %s still runs 10 s after Run returned: %s", pid, status)
		}
	}
}

// TestRemoveAll removes a TMPDIR with read-only directories in it.
func TestRemoveAll(t *testing.T) {
	t.Parallel()
	dir, err := TempDir("slipway-test-")
	if err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "mod", "cache")
	if err := os.MkdirAll(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ro, "f"), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", dir, err)
	}
}
