package slurm

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/tools"
)

// The cluster that scripts/setup starts (see the package documentation).
const (
	// Partition is the cluster's one partition, the default one.
	Partition = "debug"
	// RESTURL is where slurmrestd listens.
	RESTURL = "http://127.0.0.1:6820"
	// SharedRoot holds the tests' job directories (mode 1777); jobs see the same paths.
	SharedRoot = "/var/lib/slipway-slurm/shared"
)

const probeTimeout = 10 * time.Second

// Cluster is the running cluster as one test sees it.
type Cluster struct {
	Partition string // "debug"
	RESTURL   string // "http://127.0.0.1:6820"
	User      string // the user jobs run as: the one running the test (root here)
	// Shared is a fresh directory for this test under SharedRoot, on the node's "shared filesystem": readable
	// and writable by the test's jobs, removed with everything in it when the test ends.
	Shared string
}

var probe struct {
	once sync.Once
	user string
	err  error
}

// Require returns the machine's running cluster with a fresh Shared directory for t. When the cluster does not
// answer (no Slurm commands, slurmctld down, the partition missing, slurmrestd not listening), the test is
// skipped, or failed under SLIPWAY_REQUIRE_TOOLS=1. The check runs once per test binary.
func Require(t testing.TB) *Cluster {
	t.Helper()
	probe.once.Do(func() { probe.user, probe.err = check() })
	if probe.err != nil {
		tools.Unavailable(t, probe.err.Error())
		return nil
	}
	dir, err := os.MkdirTemp(SharedRoot, dirPrefix(t.Name()))
	if err != nil {
		t.Fatalf("slurm: creating the test's shared directory: %v", err)
	}
	// MkdirTemp makes it 0700; jobs of another user (a site's runner account) must reach it too.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("slurm: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("slurm: removing the test's shared directory: %v", err)
		}
	})
	return &Cluster{Partition: Partition, RESTURL: RESTURL, User: probe.user, Shared: dir}
}

// check reports whether the cluster answers: slurmctld up, the partition there with its node taking jobs,
// slurmrestd listening. It returns the user jobs run as.
func check() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("slurm: the current user: %v", err)
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		return "", fmt.Errorf("slurm: sbatch is not on PATH (Debian's slurm-wlm)")
	}
	if out, err := run("scontrol", "ping"); err != nil || !strings.Contains(out, "is UP") {
		return "", fmt.Errorf("slurm: slurmctld does not answer (scontrol ping: %s)", firstLine(out, err))
	}
	out, err := run("sinfo", "--noheader", "--partition="+Partition, "--format=%t")
	state := firstLine(out, err)
	if err != nil || !takesJobs(state) {
		return "", fmt.Errorf("slurm: partition %q has no node taking jobs (sinfo: %q)", Partition, state)
	}
	if st, err := os.Stat(SharedRoot); err != nil || !st.IsDir() {
		return "", fmt.Errorf("slurm: the shared directory %s is missing", SharedRoot)
	}
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(RESTURL, "http://"), probeTimeout)
	if err != nil {
		return "", fmt.Errorf("slurm: slurmrestd does not listen on %s: %v", RESTURL, err)
	}
	conn.Close()
	return u.Username, nil
}

func takesJobs(state string) bool {
	state = strings.TrimRight(state, "*~#!%$@^-")
	switch state {
	case "idle", "mix", "mixed", "alloc", "allocated", "comp", "completing":
		return true
	}
	return false
}

// Token returns a JWT for c.User from `scontrol token`, valid for lifespan (rounded up to whole seconds; at
// least one). It is never logged: a failure names the command, not the output.
func (c *Cluster) Token(t testing.TB, lifespan time.Duration) string {
	t.Helper()
	secs := int64((lifespan + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	out, err := run("scontrol", "token", "username="+c.User, "lifespan="+strconv.FormatInt(secs, 10))
	if err != nil {
		t.Fatalf("slurm: scontrol token username=%s failed: %v", c.User, err)
	}
	tok, ok := strings.CutPrefix(strings.TrimSpace(out), "SLURM_JWT=")
	if !ok || tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("slurm: scontrol token username=%s printed no SLURM_JWT=<token> line", c.User)
	}
	return tok
}

func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

func firstLine(out string, err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if err != nil {
		if line == "" {
			return err.Error()
		}
		return line + ": " + err.Error()
	}
	return line
}

// dirPrefix turns a test name into a directory name prefix: letters, digits, dots and dashes only, short.
func dirPrefix(name string) string {
	b := []byte(strings.ReplaceAll(name, "/", "-"))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b) + "-"
}
