package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// runnerUser is what an act run as a non-root runner user needs.
type runnerUser struct {
	attr *syscall.SysProcAttr
}

// asRunnerUser prepares the run directory T for act running as uid (and gid uid), as a self-hosted runner's
// user: T and everything in it become that user's (no :U, no chown by Podman: what the job finds is what a
// runner would make), act is copied where that user can run it (its cache under /root is not readable), the
// secrets move to a directory only that user can read, and act reaches Podman through a socket that user may
// open, forwarded to Podman's (a runner user in the docker group is in the same position). Docker actions
// still start as root in their containers, as on GitHub.
func asRunnerUser(t *testing.T, uid int, T string, m *machine, secrets *string) *runnerUser {
	t.Helper()
	bin := filepath.Join(T, "bin")
	mustMkdir(t, bin)
	act := filepath.Join(bin, "act")
	copyFile(t, m.act, act, 0o755)
	m.act = act

	sock := filepath.Join(T, "podman.sock")
	proxyUnix(t, sock, m.dockerHost[len("unix://"):])
	m.dockerHost = "unix://" + sock

	sdir, err := os.MkdirTemp("", "slipway-e2e-secrets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sdir) })
	moved := filepath.Join(sdir, filepath.Base(*secrets))
	copyFile(t, *secrets, moved, 0o600)
	*secrets = moved

	for _, dir := range []string{T, sdir} {
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, uid)
		}); err != nil {
			t.Fatalf("handing %s to the runner user %d: %v", dir, uid, err)
		}
	}
	// t.TempDir's parent is root's, mode 0700: the runner user must reach T through it.
	if err := os.Chmod(filepath.Dir(T), 0o755); err != nil {
		t.Fatal(err)
	}
	return &runnerUser{attr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{}}}}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// proxyUnix listens on path and forwards every connection to the unix socket target, until the test ends.
func proxyUnix(t *testing.T, path, target string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed at cleanup
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				forward(ctx, c, target)
			}()
		}
	}()
}

func forward(ctx context.Context, c net.Conn, target string) {
	defer c.Close()
	up, err := (&net.Dialer{}).DialContext(ctx, "unix", target)
	if err != nil {
		return
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); up.Close() })
	defer stop()
	done := make(chan struct{})
	go func() {
		copyHalf(up, c)
		close(done)
	}()
	copyHalf(c, up)
	<-done
}

// copyHalf copies one direction and closes the write side of dst, so that a client's request end reaches
// Podman and Podman's response end reaches the client (hijacked attach streams need both halves).
func copyHalf(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok && (err == nil || errors.Is(err, net.ErrClosed)) {
		cw.CloseWrite()
	}
}
