package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/tools"
)

// image is the action image every actions/<stage>/action.yml names (internal/cli.Image); scripts/image builds it.
const image = "ghcr.io/slipway/actions:main"

// SampleRepository is the GitHub repository the copied project claims to be (its origin remote): act reports it
// as GITHUB_REPOSITORY.
const (
	SampleRepository = "slipway-e2e/sample"
	SampleRemote     = "https://github.com/" + SampleRepository + ".git"
)

// systemPath is the PATH act and its steps get: the system directories only (act copies its environment into
// every step and action container in self-hosted mode, see e2e/README.md).
const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// machine is what every run needs from this machine.
type machine struct {
	act, git, podman string
	dockerHost       string // unix:///run/podman.sock
	repoRoot         string
}

// requireEnv finds act, git, Podman and its Docker API socket, or skips (fails under SLIPWAY_REQUIRE_TOOLS=1).
func requireEnv(t *testing.T) machine {
	t.Helper()
	m := machine{
		act:    tools.Require(t, "act"),
		git:    tools.Require(t, "git"),
		podman: tools.Require(t, "podman"),
	}
	m.dockerHost = os.Getenv("DOCKER_HOST")
	if !strings.HasPrefix(m.dockerHost, "unix://") {
		m.dockerHost = "unix:///run/podman.sock"
	}
	if err := ping(strings.TrimPrefix(m.dockerHost, "unix://")); err != nil {
		tools.Unavailable(t, fmt.Sprintf("the Docker API of Podman does not answer on %s: %v", m.dockerHost, err))
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	m.repoRoot = root
	return m
}

// ping asks the Docker API on a unix socket for /_ping.
func ping(socket string) error {
	c := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}},
	}
	resp, err := c.Get("http://podman/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /_ping: %s", resp.Status)
	}
	return nil
}

var imageOnce struct {
	sync.Once
	err error
}

// ensureImage builds the action image once per test binary with scripts/image, from the working tree.
func ensureImage(t *testing.T, m machine) {
	t.Helper()
	imageOnce.Do(func() {
		unlock := lockMachine(t, true)
		defer unlock()
		start := time.Now()
		cmd := exec.Command(filepath.Join(m.repoRoot, "scripts", "image"))
		cmd.Dir = m.repoRoot
		cmd.Env = append(os.Environ(), "SLIPWAY_IMAGE="+image)
		out, err := cmd.CombinedOutput()
		if err != nil {
			imageOnce.err = fmt.Errorf("scripts/image: %v\n%s", err, out)
			return
		}
		t.Logf("scripts/image: %s\n%s", time.Since(start).Round(100*time.Millisecond), strings.TrimSpace(string(out)))
	})
	if imageOnce.err != nil {
		t.Fatal(imageOnce.err)
	}
}

// lockMachine takes the machine-wide e2e lock, a flock on one file that every test binary opens: shared for
// what uses the action image (an act run, a podman build from bin/), exclusive for building it (a rebuild
// replaces the image and bin/slipway under whatever uses them). act runs may overlap: their containers have
// unique names (uniqueName). Each call opens its own descriptor, so goroutines of one test binary exclude each
// other as other binaries do. It returns the unlock.
func lockMachine(t *testing.T, exclusive bool) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "slipway-e2e.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("opening the e2e lock: %v", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("locking the e2e lock: %v", err)
	}
	return func() { f.Close() } // releases the flock
}

// actEnv is act's whole environment: act hands it to every step and action container.
func actEnv(t *testing.T, m machine, home string, hostTools []string, runnerEnv map[string]string) []string {
	t.Helper()
	path := systemPath
	for _, name := range hostTools {
		p := tools.Require(t, name)
		path = filepath.Dir(p) + ":" + path
	}
	env := []string{
		"PATH=" + path,
		"HOME=" + home,
		"DOCKER_HOST=" + m.dockerHost,
		"ACT_DISABLE_VERSION_CHECK=1",
	}
	for _, k := range slices.Sorted(maps.Keys(runnerEnv)) {
		env = append(env, k+"="+runnerEnv[k])
	}
	return env
}

// prepareSource copies the sample project to src, adds s.Files and the workflow, and commits it all in a new git
// repository. It returns the workflow's path under src/.github/workflows.
func prepareSource(t *testing.T, m machine, s Scenario, src, home, suffix string) string {
	t.Helper()
	source := s.Source
	if source == "" {
		source = "testdata/sample"
	}
	if err := os.CopyFS(src, os.DirFS(source)); err != nil {
		t.Fatalf("copying %s: %v", source, err)
	}
	for name, content := range s.Files {
		p := filepath.Join(src, filepath.FromSlash(name))
		mustMkdir(t, filepath.Dir(p))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wfData, err := os.ReadFile(s.Workflow)
	if err != nil {
		t.Fatalf("reading the scenario's workflow: %v", err)
	}
	renamed, err := uniqueName(string(wfData), suffix)
	if err != nil {
		t.Fatalf("%s: %v", s.Workflow, err)
	}
	wf := filepath.Join(src, ".github", "workflows", filepath.Base(s.Workflow))
	mustMkdir(t, filepath.Dir(wf))
	if err := os.WriteFile(wf, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command(m.git, args...)
		cmd.Dir = src
		cmd.Env = []string{"PATH=" + systemPath, "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Slipway e2e", "GIT_AUTHOR_EMAIL=e2e@slipway.invalid", "GIT_AUTHOR_DATE=2023-11-14T22:13:20Z",
			"GIT_COMMITTER_NAME=Slipway e2e", "GIT_COMMITTER_EMAIL=e2e@slipway.invalid", "GIT_COMMITTER_DATE=2023-11-14T22:13:20Z"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q", "-b", "main")
	remote := SampleRemote
	if s.Repository != "" {
		remote = "https://github.com/" + s.Repository + ".git"
	}
	git("remote", "add", "origin", remote) // act derives GITHUB_REPOSITORY from it
	git("add", "-A")
	git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "sample project for the e2e tests")
	return wf
}

// uniqueName appends suffix to the workflow's top-level name and to the name of each of its jobs (a job without
// one gets its id plus suffix), so that runs of the same workflow may overlap: act names every container after
// the workflow's name and the job's, and a called workflow's containers after the calling job's name and the
// called workflow's (act's RunContext.String), and it removes a container of the same name before creating its
// own. The jobs must be the keys indented by two spaces under a top-level jobs:, as in every workflow here.
func uniqueName(wf, suffix string) (string, error) {
	lines := strings.Split(wf, "\n")
	var out []string
	named, inJobs, jobs := false, false, 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l != "" && l[0] != ' ' && l[0] != '#' {
			inJobs = strings.TrimSpace(l) == "jobs:"
		}
		if v, ok := strings.CutPrefix(l, "name:"); ok && !named {
			name := strings.TrimSpace(v)
			if name == "" || strings.ContainsAny(name, `"'#:{}[]`) {
				return "", fmt.Errorf("top-level name %q: use a plain word", name)
			}
			out = append(out, "name: "+name+"-"+suffix)
			named = true
			continue
		}
		out = append(out, l)
		m := jobKey.FindStringSubmatch(l)
		if !inJobs || m == nil {
			continue
		}
		jobs++
		// The job's own lines: up to the next line indented by two spaces or less (blank lines and comments
		// do not end it).
		end := i + 1
		for end < len(lines) && (strings.TrimSpace(lines[end]) == "" || strings.HasPrefix(strings.TrimSpace(lines[end]), "#") || strings.HasPrefix(lines[end], "   ")) {
			end++
		}
		renamed := false
		for j := i + 1; j < end; j++ {
			if v, ok := strings.CutPrefix(lines[j], "    name:"); ok {
				name := strings.TrimSpace(v)
				if name == "" || strings.ContainsAny(name[:1], `"'|>&*!`) {
					return "", fmt.Errorf("job %s: name %q: use an unquoted name", m[1], name)
				}
				lines[j] = "    name: " + name + "-" + suffix
				renamed = true
			}
		}
		if !renamed {
			out = append(out, "    name: "+m[1]+"-"+suffix)
		}
	}
	if !named {
		return "", fmt.Errorf("no top-level name: line; give the workflow one")
	}
	if jobs == 0 {
		return "", fmt.Errorf("no jobs indented by two spaces under a top-level jobs: line")
	}
	return strings.Join(out, "\n"), nil
}

// jobKey is a job's id line under jobs: (indented by two spaces).
var jobKey = regexp.MustCompile(`^  ([A-Za-z_][A-Za-z0-9_-]*):\s*(#.*)?$`)

// runSuffix returns a suffix no other act run on this machine has at the same time: this process's id and a
// counter.
func runSuffix() string {
	return fmt.Sprintf("%d-%d", os.Getpid(), runCount.Add(1))
}

var runCount atomic.Int64

// repoParts are the parts of this repository that workflows use through slipway/actions@v1.
var repoParts = []string{"action.yml", "actions", ".github/workflows", "workflows"}

// copyRepo copies the actions and workflows of the working tree to dst, which act then serves as
// slipway/actions@v1 (--local-repository): a copy, so that edits during a run cannot mix versions.
func copyRepo(t *testing.T, root, dst string) string {
	t.Helper()
	mustMkdir(t, dst)
	for _, part := range repoParts {
		src := filepath.Join(root, part)
		fi, err := os.Stat(src)
		switch {
		case os.IsNotExist(err):
			continue
		case err != nil:
			t.Fatal(err)
		case fi.IsDir():
			err = os.CopyFS(filepath.Join(dst, part), os.DirFS(src))
		default:
			var data []byte
			if data, err = os.ReadFile(src); err == nil {
				err = os.WriteFile(filepath.Join(dst, part), data, 0o644)
			}
		}
		if err != nil {
			t.Fatalf("copying %s: %v", src, err)
		}
	}
	return dst
}

// writeSecrets writes the secrets as YAML (JSON is YAML; act reads a .yml secret file with a YAML parser, which
// keeps multi-line values such as PEM keys intact), mode 0600, outside the run's directory T, which action
// containers can read.
func writeSecrets(t *testing.T, secrets map[string]string, path string) string {
	t.Helper()
	if secrets == nil {
		secrets = map[string]string{}
	}
	data, err := json.Marshal(secrets)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
