package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/silent"
)

// guard bounds how long a process may take to stop: a hang guard, not a
// measure of speed.
const guard = 20 * time.Second

var built struct {
	once sync.Once
	path string
	err  error
}

// binary builds slipway once per test run, as users get it.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "slipway-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "slipway")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

// proc is a running slipway.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan error
}

func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), done: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait returns the exit code, failing the test when the process has not
// ended within guard.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(guard):
		t.Fatalf("slipway %v still running %s later\nstderr %s", p.cmd.Args[1:], guard, p.stderr.String())
		return -1
	}
}

// until polls cond (what shows that the process is blocked where the test
// wants it) and fails the test after guard.
func until(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(guard); !cond(); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-p.done:
			t.Fatalf("slipway ended (%v) before %s\nstderr %s", err, what, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s after %s\nstderr %s", what, guard, p.stderr.String())
		}
	}
}

// leftovers lists temporary and half-written files under dir.
func leftovers(t *testing.T, dir string, unwanted ...string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if strings.Contains(name, ".tmp-") || strings.HasPrefix(name, ".layer-") {
			found = append(found, p)
		}
		for _, u := range unwanted {
			if strings.HasSuffix(name, u) {
				found = append(found, p)
			}
		}
		return nil
	})
	return found
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every command stops soon after SIGINT or SIGTERM wherever it is blocked,
// says so, exits 128 + the signal's number, and leaves no half-written or
// temporary file.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n"
	tests := []struct {
		name    string
		sig     syscall.Signal
		setup   func(t *testing.T, dir string, s *silent.Server) (env []string, args []string)
		blocked func(dir string, s *silent.Server) bool
		message string
	}{
		{
			name: "verify image against a silent registry", sig: syscall.SIGTERM,
			setup: func(t *testing.T, dir string, s *silent.Server) ([]string, []string) {
				write(t, dir, "policy.yaml", policy)
				write(t, dir, "cosign.pub", string(key.PublicPEM))
				return nil, []string{"verify", "--image", s.Addr() + "/app:v1", "--policy", "policy.yaml", "--report", "report.json"}
			},
			blocked: func(_ string, s *silent.Server) bool { return s.Accepted() > 0 },
			message: "slipway verify: interrupted by SIGTERM; nothing was written",
		},
		{
			name: "sign with a silent Vault", sig: syscall.SIGINT,
			setup: func(t *testing.T, dir string, s *silent.Server) ([]string, []string) {
				write(t, dir, "app.bin", "hello\n")
				return []string{"VAULT_ADDR=http://" + s.Addr(), "VAULT_TOKEN=not-a-token"},
					[]string{"sign", "--subject", "app.bin", "--key", "hashivault://release", "--tlog=false"}
			},
			blocked: func(_ string, s *silent.Server) bool { return s.Accepted() > 0 },
			message: "slipway sign: interrupted by SIGINT; nothing was written",
		},
		{
			name: "push to a silent registry", sig: syscall.SIGTERM,
			setup: func(t *testing.T, dir string, s *silent.Server) ([]string, []string) {
				write(t, dir, "app.bin", "hello\n")
				return nil, []string{"push", "--subject", "app.bin", "--ref", s.Addr() + "/app:v1"}
			},
			blocked: func(_ string, s *silent.Server) bool { return s.Accepted() > 0 },
			message: "slipway push: interrupted by SIGTERM; nothing was written",
		},
		{
			name: "sign reading a large file", sig: syscall.SIGTERM,
			setup: func(t *testing.T, dir string, _ *silent.Server) ([]string, []string) {
				big := filepath.Join(dir, "big.bin")
				f, err := os.Create(big)
				if err != nil {
					t.Fatal(err)
				}
				// Sparse: nothing on disk, 256 GiB to read.
				if err := f.Truncate(256 << 30); err != nil {
					t.Fatal(err)
				}
				f.Close()
				return []string{"COSIGN_PASSWORD=pw"}, []string{"sign", "--subject", "big.bin", "--key", key.PrivatePath, "--tlog=false"}
			},
			blocked: func(dir string, _ *silent.Server) bool { return readBytes(dir) > 64<<20 },
			message: "slipway sign: interrupted by SIGTERM; nothing was written",
		},
		{
			name: "build command running", sig: syscall.SIGTERM,
			setup: func(t *testing.T, dir string, _ *silent.Server) ([]string, []string) {
				return nil, []string{"build", "--command", "touch started; sleep 300", "--artifacts", "out/*"}
			},
			blocked: func(dir string, _ *silent.Server) bool {
				_, err := os.Stat(filepath.Join(dir, "started"))
				return err == nil
			},
			message: "slipway build: interrupted by SIGTERM; nothing was written",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := silent.Listen(t)
			env, args := tt.setup(t, dir, s)
			p := start(t, dir, env, args...)
			watchReads(p, dir)
			until(t, p, "blocked", func() bool { return tt.blocked(dir, s) })
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			code := p.wait(t)
			if want := 128 + int(tt.sig); code != want {
				t.Errorf("exit code %d, want %d\nstderr %s", code, want, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), tt.message) {
				t.Errorf("stderr does not say %q:\n%s", tt.message, p.stderr.String())
			}
			if left := leftovers(t, dir, ".sigstore.json", "report.json", "manifest.json"); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// watchReads records how far the process has read, from /proc, for the
// large-file case.
func watchReads(p *proc, dir string) {
	reads.Store(dir, p.cmd.Process.Pid)
}

var reads sync.Map // dir → pid

// readBytes is how many bytes the process of dir has read (rchar).
func readBytes(dir string) int64 {
	pid, ok := reads.Load(dir)
	if !ok {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		var n int64
		if _, err := fmt.Sscanf(line, "rchar: %d", &n); err == nil {
			return n
		}
	}
	return 0
}

// A second signal ends the process at once, even when what it waits for
// ignores the first one (a build command that ignores SIGTERM), and takes
// the build command's processes with it.
func TestSecondSignal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := start(t, dir, nil, "build", "--command", `trap "" TERM INT; echo $$ > shell.pid; sleep 300`, "--artifacts", "out/*")
	pidFile := filepath.Join(dir, "shell.pid")
	until(t, p, "running the build command", func() bool {
		b, err := os.ReadFile(pidFile)
		return err == nil && strings.HasSuffix(string(b), "\n")
	})
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the first signal is being handled: the command ignores it
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 130 {
		t.Errorf("exit code %d, want 130 (the second signal's)\nstderr %s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "slipway: SIGINT again: stopping at once") {
		t.Errorf("stderr does not say it stopped at once:\n%s", p.stderr.String())
	}
	b, _ := os.ReadFile(pidFile)
	var pid int
	fmt.Sscanf(string(b), "%d", &pid)
	for deadline := time.Now().Add(guard); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(-pid, syscall.SIGKILL)
			t.Fatalf("the build command (pid %d) outlived slipway", pid)
		}
	}
}
