package execverified

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/slipway/actions/internal/exitcode"
)

// childEnv makes the test binary run Run with a real exec (TestMain):
// the in-place mode's descriptor handed to a real command and a real #!
// interpreter.
const childEnv = "EXECVERIFIED_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child runs exec-verified --in-place with the arguments FILE DIGEST
// JOBDIR SWAP CMD...: between the checks and the exec, SWAP (a file) is
// renamed over FILE; then the real exec.
func child() int {
	a := os.Args[1:]
	o := Options{File: a[0], Digest: a[1], InPlace: a[2], Argv: a[4:], Env: os.Environ()}
	o.Exec = func(argv0 string, argv, env []string) error {
		if err := os.Rename(a[3], a[0]); err != nil {
			return err
		}
		return syscall.Exec(argv0, argv, env)
	}
	err := Run(context.Background(), o)
	fmt.Fprintln(os.Stderr, err)
	return int(exitcode.Of(err))
}

// staging makes a staging area as slipway dispatch does: root/release/NAME
// (directories 0755, the file as given) and returns root and the file.
func staging(t *testing.T, name string, content []byte, mode os.FileMode) (string, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), ".slipway")
	rel := filepath.Join(root, "release-r")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, rel} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := writeFile(t, rel, name, content, mode)
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return root, p
}

// TestRunInPlace: the staged file itself is hashed and handed on through
// the same descriptor (/dev/fd/N, not close-on-exec, at its start): a file
// renamed over the staged name after the checks is not what the command
// reads or runs.
func TestRunInPlace(t *testing.T) {
	t.Parallel()
	content := []byte("#!/bin/sh\necho checked\n")
	root, staged := staging(t, "hello", content, 0o755)
	job := filepath.Join(filepath.Dir(root), "job-1")
	o := Options{File: staged, Digest: sum(content), InPlace: job, StagingRoot: root,
		Argv: []string{staged, "--flag", staged + "x"}, Env: []string{"A=1"}}
	var flags, offset int
	c := recorder(t, &o, func() {
		swap := writeFile(t, filepath.Dir(staged), "swap", []byte("#!/bin/sh\necho swapped\n"), 0o755)
		if err := os.Rename(swap, staged); err != nil {
			t.Error(err)
		}
	})
	exec := o.Exec
	o.Exec = func(argv0 string, argv, env []string) error {
		fd, _ := strconv.Atoi(strings.TrimPrefix(argv0, "/dev/fd/"))
		flags, _ = unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		off, _ := unix.Seek(fd, 0, 1)
		offset = int(off)
		defer unix.Close(fd)
		return exec(argv0, argv, env)
	}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	fd := c.argv0
	if !strings.HasPrefix(fd, "/dev/fd/") || !slices.Equal(c.argv, []string{fd, "--flag", staged + "x"}) || c.dir != job {
		t.Fatalf("exec %q %q in %q, want /dev/fd/N for the staged file, in %q", c.argv0, c.argv, c.dir, job)
	}
	if !bytes.Equal(c.artifact, content) {
		t.Errorf("the command would read %q, want the checked %q", c.artifact, content)
	}
	if flags&unix.FD_CLOEXEC != 0 || offset != 0 {
		t.Errorf("the descriptor has flags %#x and offset %d: want it inherited (no close-on-exec) and at the start", flags, offset)
	}
	for _, e := range []string{EnvArtifact + "=" + fd, EnvJobDir + "=" + job, "A=1"} {
		if !slices.Contains(c.env, e) {
			t.Errorf("env %q lacks %q", c.env, e)
		}
	}
	if l, err := os.Readlink(filepath.Join(job, "hello")); err != nil || l != fd {
		t.Errorf("the job directory's hello leads to %q (%v), want %q", l, err, fd)
	}
	if d, err := os.Stat(job); err != nil || d.Mode().Perm() != 0o700 {
		t.Errorf("the job directory: %v (%v), want mode 0700", d, err)
	}
}

// TestInPlaceRealExec runs the real exec (the test binary as a child): a
// #! script artifact exec'd through its descriptor, and a file read by a
// command as /dev/fd/N, each with a file renamed over the staged name
// between the checks and the exec: what runs and what is read is what was
// checked.
func TestInPlaceRealExec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		content string
		argv    func(staged string) []string
		want    string
	}{
		{"script run through its descriptor", "#!/bin/sh\necho \"checked $# $1\"\n", func(s string) []string { return []string{s, "arg"} }, "checked 1 arg\n"},
		{"file read by the command", "checked data\n", func(s string) []string { return []string{"cat", s} }, "checked data\n"},
		{"file read by its name in the job directory", "checked data\n", func(string) []string { return []string{"/bin/sh", "-c", "cat ./app"} }, "checked data\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, staged := staging(t, "app", []byte(tc.content), 0o755)
			swap := writeFile(t, filepath.Dir(root), "swap", []byte("#!/bin/sh\necho swapped\n"), 0o755)
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{staged, sum([]byte(tc.content)), filepath.Join(filepath.Dir(root), "job"), swap}, tc.argv(staged)...)
			cmd := exec.Command(self, args...)
			cmd.Env = append(os.Environ(), childEnv+"=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || string(out) != tc.want {
				t.Fatalf("got %q (%v), want %q; stderr:\n%s", out, err, tc.want, stderr.String())
			}
			if b, _ := os.ReadFile(staged); !strings.Contains(string(b), "swapped") {
				t.Fatalf("the swap did not happen: the staged name holds %q", b)
			}
		})
	}
}

// TestRunInPlaceRefuses: a staged file, or a directory from the staging
// root down to it, that another user could change is refused (exit 65,
// check staging, the file and the fix named), and nothing runs.
func TestRunInPlaceRefuses(t *testing.T) {
	t.Parallel()
	const nobody = 65534
	content := []byte("artifact")
	for _, tc := range []struct {
		name   string
		edit   func(t *testing.T, root, staged string) (file string)
		asRoot bool
		want   []string
	}{
		{"group-writable file", func(t *testing.T, _, f string) string { chmod(t, f, 0o664); return f },
			false, []string{"writable by its group or others (mode 0664)", "stage it again"}},
		{"other-writable file", func(t *testing.T, _, f string) string { chmod(t, f, 0o646); return f },
			false, []string{"writable by its group or others (mode 0646)"}},
		{"file of another user", func(t *testing.T, _, f string) string { chown(t, f, nobody); return f },
			true, []string{"belongs to uid 65534", "stage the release again"}},
		{"two links", func(t *testing.T, root, f string) string {
			if err := os.Link(f, filepath.Join(root, "other-name")); err != nil {
				t.Fatal(err)
			}
			return f
		}, false, []string{"has 2 links", "stage it again as a file of its own"}},
		{"group-writable directory", func(t *testing.T, _, f string) string { chmod(t, filepath.Dir(f), 0o775); return f },
			false, []string{"staging directory", "release-r\" is writable by its group or others (mode 0775)", "chmod go-w"}},
		{"other-writable staging root", func(t *testing.T, root, f string) string { chmod(t, root, 0o757); return f },
			false, []string{".slipway\" is writable by its group or others (mode 0757)", "chmod go-w"}},
		{"directory of another user", func(t *testing.T, _, f string) string { chown(t, filepath.Dir(f), nobody); return f },
			true, []string{"staging directory", "belongs to uid 65534"}},
		{"symbolic link", func(t *testing.T, root, f string) string {
			l := filepath.Join(filepath.Dir(f), "link")
			if err := os.Symlink(f, l); err != nil {
				t.Fatal(err)
			}
			return l
		}, false, []string{"link\" is a symbolic link", "follows no link below the staging root"}},
		{"directory swapped for a link", func(t *testing.T, root, f string) string {
			dir := filepath.Dir(f)
			if err := os.Rename(dir, dir+".real"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(dir+".real", dir); err != nil {
				t.Fatal(err)
			}
			return f
		}, false, []string{"release-r\" is a symbolic link or not a directory"}},
		{"outside the staging root", func(t *testing.T, root, f string) string {
			return writeFile(t, filepath.Dir(root), "outside", content, 0o644)
		}, false, []string{"is not under the staging root", "--staging-root"}},
		{"a FIFO", func(t *testing.T, _, f string) string {
			os.Remove(f)
			if err := unix.Mkfifo(f, 0o644); err != nil {
				t.Fatal(err)
			}
			return f
		}, false, []string{"is not a regular file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.asRoot && os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root (chown)")
			}
			root, staged := staging(t, "app", content, 0o755)
			file := tc.edit(t, root, staged)
			job := filepath.Join(filepath.Dir(root), "job")
			o := Options{File: file, Digest: sum(content), InPlace: job, StagingRoot: root,
				Status: filepath.Join(filepath.Dir(root), "status"), Argv: []string{file}}
			o.Exec = func(string, []string, []string) error { t.Error("the command ran"); return nil }
			err := Run(context.Background(), o)
			if exitcode.Of(err) != exitcode.NotVerified {
				t.Fatalf("got %v (exit code %d), want 65", err, exitcode.Of(err))
			}
			for _, w := range append(tc.want, "nothing ran") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if st := readStatus(t, o.Status); st.Check != CheckStaging || st.Verified || st.ExitCode != 65 {
				t.Errorf("status %+v, want check %q", st, CheckStaging)
			}
			if _, err := os.Stat(job); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the job directory was made after a refusal: %v", err)
			}
			if err := CheckStaged(root, file); err == nil {
				t.Errorf("CheckStaged(%q, %q) accepts it", root, file)
			}
		})
	}
}

func chmod(t *testing.T, p string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, m); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, p string, uid int) {
	t.Helper()
	if err := os.Lchown(p, uid, -1); err != nil {
		t.Fatal(err)
	}
}
