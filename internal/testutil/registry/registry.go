package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/slipway/actions/internal/testutil/tools"
)

// Binary is the name of the registry program that scripts/setup installs (Debian package docker-registry).
const Binary = "docker-registry"

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3 // a free port can be taken between choosing and binding it
)

// Option configures a registry.
type Option func(*options)

type options struct {
	user, password string
}

// WithHtpasswd makes the registry require HTTP basic authentication as user with password (an htpasswd file
// with a bcrypt hash, written in the test's temporary directory).
func WithHtpasswd(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// Start starts a registry for t and returns its address, "127.0.0.1:PORT". It serves plain HTTP, without
// authentication unless WithHtpasswd is given, with deletion enabled; t.Cleanup stops it. Without the
// docker-registry binary the test is skipped, or failed under SLIPWAY_REQUIRE_TOOLS=1.
func Start(t testing.TB, opts ...Option) string {
	t.Helper()
	bin := tools.Require(t, Binary)
	dir := t.TempDir()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	htpasswd := ""
	if o.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.password), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("registry: hashing the password: %v", err)
		}
		htpasswd = filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(o.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatalf("registry: writing htpasswd: %v", err)
		}
	}
	var lastErr error
	for try := 1; try <= startTries; try++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("registry: choosing a port: %v", err)
		}
		r, err := start(bin, dir, addr, htpasswd, try)
		if err == nil {
			t.Cleanup(func() {
				if err := r.stop(); err != nil {
					t.Errorf("registry: stopping %s: %v", addr, err)
				}
				if t.Failed() {
					t.Logf("registry %s log (%s):\n%s", addr, r.logPath, tail(r.logPath, 40))
				}
			})
			return addr
		}
		lastErr = err
	}
	t.Fatalf("registry: starting %s %d times failed, last: %v", bin, startTries, lastErr)
	return ""
}

type server struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited; waitErr is set then
	waitErr error
	logPath string
}

func start(bin, dir, addr, htpasswd string, try int) (*server, error) {
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, fmt.Sprintf("config-%d.yml", try))
	if err := os.WriteFile(cfgPath, []byte(config(addr, storage, htpasswd)), 0o644); err != nil {
		return nil, fmt.Errorf("writing config: %w", err)
	}
	logPath := filepath.Join(dir, fmt.Sprintf("registry-%d.log", try))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor

	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(addr, htpasswd != ""); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%w; log:\n%s", err, tail(logPath, 20))
	}
	return s, nil
}

// waitReady polls GET /v2/ until it answers 200, or with auth 401 with a Basic challenge.
func (s *server) waitReady(addr string, auth bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + "/v2/"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			basic := resp.StatusCode == http.StatusUnauthorized && strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic")
			if (!auth && resp.StatusCode == http.StatusOK) || (auth && basic) {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		select {
		case <-s.exited:
			return fmt.Errorf("registry exited before answering: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("registry did not answer within %s: %w", startTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-s.exited
	return nil
}

// config is the registry's configuration: storage on disk, deletes allowed, logs to stderr, no health checks or
// upload purging (they only add background work to a short-lived test registry); basic authentication with
// the htpasswd file when it is not empty.
func config(addr, storage, htpasswd string) string {
	auth := ""
	if htpasswd != "" {
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: slipway-test\n    path: %q\n", htpasswd)
	}
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %q
  headers:
    X-Content-Type-Options: [nosniff]
`, storage, addr) + auth
}

// freeLoopbackAddr returns 127.0.0.1:PORT for a port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tail returns the last n lines of the file at path, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
