package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/tools"
)

// TestCommandEnvironment proves the scrubbing: secret-looking variables and
// the Actions token variables do not reach the command unless named.
func TestCommandEnvironment(t *testing.T) {
	t.Parallel()
	dir := workspace(t, nil)
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": "/home/builder", "GOFLAGS": "-mod=readonly",
		"GITHUB_TOKEN": "ghs_secret", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-secret",
		"ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc", "ACTIONS_RUNTIME_TOKEN": "runtime-secret",
		"DEPLOY_PASSWORD": "pw-secret", "NPM_TOKEN": "npm-secret", "UNLISTED": "x", "GITHUB_OUTPUT": "/out",
		"TMPDIR": "/should/be/replaced", "SOURCE_DATE_EPOCH": "1",
	}
	o := options(dir, "dist/env.txt")
	o.Getenv = func(k string) string { return env[k] }
	o.PassEnv = []string{"NPM_TOKEN"}
	o.Command = `mkdir -p dist && env > dist/env.txt && test -d "$TMPDIR" && test -w "$TMPDIR" && echo "$TMPDIR" > dist/tmpdir.txt`
	var out strings.Builder
	o.Output = &out
	run(t, o)
	b, err := os.ReadFile(filepath.Join(dir, "dist", "env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"HOME=/home/builder\n", "GOFLAGS=-mod=readonly\n", "NPM_TOKEN=npm-secret\n", "SOURCE_DATE_EPOCH=1700000000\n", "PWD=" + dir + "\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the command's environment lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"ghs_secret", "oidc-secret", "https://oidc", "runtime-secret", "pw-secret", "UNLISTED", "GITHUB_OUTPUT", "/should/be/replaced"} {
		if strings.Contains(got, secret) {
			t.Errorf("the command saw %q:\n%s", secret, got)
		}
	}
	tmp, err := os.ReadFile(filepath.Join(dir, "dist", "tmpdir.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(strings.TrimSpace(string(tmp))); !os.IsNotExist(err) {
		t.Errorf("TMPDIR %s was not removed after the command: %v", tmp, err)
	}
}

func TestCommandShellAndOutput(t *testing.T) {
	t.Parallel()
	dir := workspace(t, nil)
	o := options(dir, "dist/x")
	// pipefail: the failing first stage of a pipe fails the build.
	o.Command = "mkdir -p dist; echo to-stdout; echo to-stderr >&2; echo x > dist/x; false | true"
	var out strings.Builder
	o.Output = &out
	var groups []string
	o.Group = func(title string) func() {
		groups = append(groups, title)
		return func() { groups = append(groups, "end") }
	}
	_, err := Run(context.Background(), o)
	if exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), "exited with status 1") {
		t.Errorf("Run() error = %v (code %v), want the pipe's failure", err, exitcode.Of(err))
	}
	if !strings.Contains(out.String(), "to-stdout\n") || !strings.Contains(out.String(), "to-stderr\n") {
		t.Errorf("output = %q, want both streams", out.String())
	}
	if strings.Join(groups, ",") != "Build command,end" {
		t.Errorf("groups = %q", groups)
	}
}

// TestSourceDateEpochFromCommit builds in a real git repository: the
// commit time becomes SOURCE_DATE_EPOCH, and the provenance records the
// commit, the ref, the toolchain and whether the tree was dirty.
func TestSourceDateEpochFromCommit(t *testing.T) {
	t.Parallel()
	git := tools.Require(t, "git")
	dir := workspace(t, map[string]string{"main.c": "int main(){return 0;}\n", ".gitignore": "*.o\n"})
	gitEnv := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_COMMITTER_DATE=@1600000000 +0000"}
	for _, args := range [][]string{{"init", "-q", "-b", "trunk"}, {"add", "."}, {"-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "c"}} {
		cmd := exec.Command(git, append([]string{"-C", dir}, args...)...)
		cmd.Env = gitEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	head, err := exec.Command(git, "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	o := options(dir, "dist/epoch.txt")
	o.SourceDateEpoch = ""
	o.Toolchains = []string{"go"} // the go that runs this test
	o.Command = `mkdir -p dist && echo "$SOURCE_DATE_EPOCH" > dist/epoch.txt && touch main.o`
	start := time.Now().UTC()
	res := run(t, o)
	b := res.Manifest.Build
	if b.Commit != strings.TrimSpace(string(head)) || b.SourceDateEpoch != 1600000000 || b.Ref != "refs/heads/trunk" || b.Dirty {
		t.Errorf("build info = %+v; want commit %s, epoch 1600000000, ref refs/heads/trunk, clean", b, head)
	}
	if b.Command != o.Command || b.StartedOn.Before(start.Truncate(time.Second)) || b.FinishedOn.Before(b.StartedOn) {
		t.Errorf("build info command %q, started %v, finished %v", b.Command, b.StartedOn, b.FinishedOn)
	}
	if len(b.Toolchains) != 1 || b.Toolchains[0].Name != "go" || !strings.HasPrefix(b.Toolchains[0].Version, "go1.") || b.Toolchains[0].Executable == nil {
		t.Errorf("toolchains = %+v, want go", b.Toolchains)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "dist", "epoch.txt")); string(got) != "1600000000\n" {
		t.Errorf("the command saw SOURCE_DATE_EPOCH=%q", got)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings = %q, want none (dist/ is the stage's own output)", res.Warnings)
	}

	// An untracked source file makes the tree dirty; the override wins.
	if err := os.WriteFile(filepath.Join(dir, "extra.c"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o.SourceDateEpoch = "1234"
	o.Command = ""
	res = run(t, o)
	if b := res.Manifest.Build; !b.Dirty || b.SourceDateEpoch != 1234 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "changes not in commit") {
		t.Errorf("dirty build: info %+v, warnings %q", b, res.Warnings)
	}
}

func TestNotAGitRepository(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"dist/app": "a"})
	o := options(dir, "dist/app")
	o.SourceDateEpoch = ""
	res := run(t, o)
	if b := res.Manifest.Build; b.Commit != "" || b.SourceDateEpoch != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not a git work tree") {
		t.Errorf("build info %+v, warnings %q", b, res.Warnings)
	}
}

func TestCommandCancelled(t *testing.T) {
	t.Parallel()
	dir := workspace(t, nil)
	o := options(dir, "dist/x")
	o.Command = "sleep 3600 & wait" // a child in the group too
	ctx, cancel := context.WithCancel(context.Background())
	o.Group = func(string) func() {
		go func() { time.Sleep(100 * time.Millisecond); cancel() }()
		return func() {}
	}
	_, err := Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "the build command was stopped") {
		t.Errorf("Run() error = %v, want the command stopped", err)
	}
}

func TestShell(t *testing.T) {
	t.Parallel()
	withBash, withSh, none := t.TempDir(), t.TempDir(), t.TempDir()
	for dir, progs := range map[string][]string{withBash: {"bash", "sh"}, withSh: {"sh"}} {
		for _, p := range progs {
			if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/true\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		path      string
		fallbacks []string
		want      string
	}{
		{withBash, nil, filepath.Join(withBash, "bash") + " --noprofile --norc -e -o pipefail -c make"},
		{withSh, nil, filepath.Join(withSh, "sh") + " -e -c make"},
		{none, []string{filepath.Join(withSh, "sh")}, filepath.Join(withSh, "sh") + " -e -c make"},
		{none, []string{filepath.Join(none, "sh")}, ""},
	}
	for _, tc := range tests {
		argv, err := shell("make", []string{"PATH=" + tc.path}, tc.fallbacks)
		if got := strings.Join(argv, " "); got != tc.want {
			t.Errorf("shell(PATH=%s) = %q, want %q", tc.path, got, tc.want)
		}
		if tc.want == "" && (err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "no shell (bash or sh) on PATH")) {
			t.Errorf("shell(no shell) error = %v", err)
		}
	}
}
