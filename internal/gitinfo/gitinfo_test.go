package gitinfo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/tools"
)

const commitEpoch = 1700000000 // 2023-11-14T22:13:20Z

// repo makes a git work tree with one commit at commitEpoch holding
// tracked.txt, sub/file.txt and a .gitignore for *.log.
func repo(t *testing.T) (dir string, git func(args ...string) string) {
	t.Helper()
	gitPath := tools.Require(t, "git")
	dir = t.TempDir()
	home := t.TempDir()
	git = func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gitPath, append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
			"GIT_COMMITTER_DATE=@" + "1700000000 +0000", "GIT_AUTHOR_DATE=@1600000000 +0000"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	write(t, dir, "tracked.txt", "v1")
	write(t, dir, "sub/file.txt", "sub")
	write(t, dir, ".gitignore", "*.log\n")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	git("remote", "add", "origin", "https://user:ghp_secret@github.com/o/r.git")
	return dir, git
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readers returns both implementations, to be held to the same results.
func readers(t *testing.T) map[string]Reader {
	return map[string]Reader{
		"cli":   &CLI{Path: tools.Require(t, "git"), Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}},
		"gogit": GoGit{},
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, dir string, git func(...string) string)
		sub    string   // read from this subdirectory
		ignore []string // relative to the directory read
		dirty  bool
		noRef  bool
	}{
		{name: "clean"},
		{name: "modified", change: func(t *testing.T, dir string, _ func(...string) string) { write(t, dir, "tracked.txt", "v2") }, dirty: true},
		{name: "staged", change: func(t *testing.T, dir string, git func(...string) string) {
			write(t, dir, "new.txt", "n")
			git("add", "new.txt")
		}, dirty: true},
		{name: "deleted", change: func(t *testing.T, dir string, _ func(...string) string) { os.Remove(filepath.Join(dir, "tracked.txt")) }, dirty: true},
		{name: "untracked", change: func(t *testing.T, dir string, _ func(...string) string) { write(t, dir, "new.txt", "n") }, dirty: true},
		{name: "ignored by .gitignore", change: func(t *testing.T, dir string, _ func(...string) string) { write(t, dir, "build.log", "x") }},
		{name: "output directory ignored", ignore: []string{"dist"}, change: func(t *testing.T, dir string, _ func(...string) string) {
			write(t, dir, "dist/app", "x")
			write(t, dir, "dist/manifest.json", "{}")
		}},
		{name: "only the output directory", ignore: []string{"dist"}, change: func(t *testing.T, dir string, _ func(...string) string) {
			write(t, dir, "dist/app", "x")
			write(t, dir, "distant.txt", "x")
		}, dirty: true},
		{name: "subdirectory sees the whole tree", sub: "sub", ignore: []string{"dist"}, change: func(t *testing.T, dir string, _ func(...string) string) {
			write(t, dir, "sub/dist/app", "x")
			write(t, dir, "elsewhere.txt", "x")
		}, dirty: true},
		{name: "subdirectory output ignored", sub: "sub", ignore: []string{"dist"}, change: func(t *testing.T, dir string, _ func(...string) string) {
			write(t, dir, "sub/dist/app", "x")
		}},
		{name: "detached", change: func(t *testing.T, dir string, git func(...string) string) { git("checkout", "-q", "--detach") }, noRef: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, git := repo(t)
			head := git("rev-parse", "HEAD")
			if tc.change != nil {
				tc.change(t, dir, git)
			}
			for name, r := range readers(t) {
				got, err := r.Read(context.Background(), filepath.Join(dir, tc.sub), tc.ignore...)
				if err != nil {
					t.Fatalf("%s: Read() error = %v", name, err)
				}
				want := Info{Commit: head, CommitTime: time.Unix(commitEpoch, 0).UTC(), Dirty: tc.dirty, Ref: "refs/heads/main", Remote: "https://github.com/o/r.git"}
				if tc.noRef {
					want.Ref = ""
				}
				if got != want {
					t.Errorf("%s: Read() =\n  %+v\nwant\n  %+v", name, got, want)
				}
			}
		})
	}
}

func TestReadNotRepository(t *testing.T) {
	t.Parallel()
	gitPath := tools.Require(t, "git")
	plain := t.TempDir()
	empty := t.TempDir()
	if out, err := exec.Command(gitPath, "-C", empty, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	for _, dir := range []string{plain, empty} {
		for name, r := range readers(t) {
			if _, err := r.Read(context.Background(), dir); !errors.Is(err, ErrNotRepository) {
				t.Errorf("%s: Read(%s) error = %v, want ErrNotRepository", name, dir, err)
			}
		}
	}
}

func TestNewPicksTheCLIWhenGitIsOnPath(t *testing.T) {
	t.Parallel()
	git := tools.Require(t, "git")
	if r, ok := New([]string{"PATH=" + filepath.Dir(git)}).(*CLI); !ok || r.Path != git {
		t.Errorf("New(with git on PATH) = %#v, want the CLI reader", r)
	}
	if _, ok := New([]string{"PATH=" + t.TempDir()}).(GoGit); !ok {
		t.Error("New(without git) is not the go-git reader")
	}
}

func TestCleanRemote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://x-access-token:ghs_abc@github.com/o/r": "https://github.com/o/r",
		"https://github.com/o/r.git":                    "https://github.com/o/r.git",
		"git@github.com:o/r.git":                        "git@github.com:o/r.git",
		"ssh://git@host:22/o/r":                         "ssh://host:22/o/r",
		"https://%zz@bad":                               "",
		"":                                              "",
	} {
		if got := cleanRemote(in); got != want {
			t.Errorf("cleanRemote(%q) = %q, want %q", in, got, want)
		}
	}
}
