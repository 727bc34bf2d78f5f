package execverified

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/policy/policytest"
)

// execCall is what Run would have exec'd.
type execCall struct {
	argv0 string
	argv  []string
	env   []string
	dir   string
	// artifact is what the command would have read at its artifact argument.
	artifact []byte
}

// recorder stands in for syscall.Exec and os.Chdir.
func recorder(t *testing.T, o *Options, during func()) *execCall {
	c := &execCall{}
	o.Chdir = func(d string) error { c.dir = d; return nil }
	o.Exec = func(argv0 string, argv, env []string) error {
		c.argv0, c.argv, c.env = argv0, argv, env
		if during != nil {
			during()
		}
		for _, a := range argv {
			if strings.HasPrefix(a, "/dev/fd/") || strings.Contains(a, "job") {
				if b, err := os.ReadFile(a); err == nil {
					c.artifact = b
				}
			}
		}
		return nil
	}
	return c
}

func sum(b []byte) string { return digest.SHA256(sha256.Sum256(b)).String() }

func writeFile(t *testing.T, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func readStatus(t *testing.T, p string) Status {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading the status file: %v", err)
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("status file %q: %v", b, err)
	}
	return st
}

// TestRunCopy: the command gets the private copy, which keeps what was
// checked even when the staged file is rewritten in place before it runs.
func TestRunCopy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := []byte("#!/bin/sh\necho checked\n")
	staged := writeFile(t, dir, "hello", content, 0o755)
	o := Options{File: staged, Digest: sum(content), Copy: filepath.Join(dir, "job"), Argv: []string{staged, "--flag", staged + "x"}, Env: []string{"A=1"}}
	c := recorder(t, &o, func() {
		if err := os.WriteFile(staged, []byte("#!/bin/sh\necho swapped\n"), 0o755); err != nil {
			t.Error(err)
		}
	})
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(dir, "job", "hello")
	if want := []string{copyPath, "--flag", staged + "x"}; !slices.Equal(c.argv, want) || c.argv0 != copyPath || c.dir != filepath.Join(dir, "job") {
		t.Errorf("exec %q %q, want %q", c.argv0, c.argv, want)
	}
	if !bytes.Equal(c.artifact, content) {
		t.Errorf("the command would read %q, want the checked %q", c.artifact, content)
	}
	if !slices.Contains(c.env, EnvArtifact+"="+copyPath) || !slices.Contains(c.env, "A=1") {
		t.Errorf("env %q", c.env)
	}
	fi, err := os.Stat(copyPath)
	if err != nil || fi.Mode().Perm() != 0o500 {
		t.Errorf("the copy's mode is %v (%v), want 0500", fi.Mode(), err)
	}
	if d, err := os.Stat(filepath.Join(dir, "job")); err != nil || d.Mode().Perm() != 0o700 {
		t.Errorf("the job directory's mode is %v (%v), want 0700", d.Mode(), err)
	}
}

// TestRunMismatch: a staged file that is not the admitted one is refused
// with exit code 65, both digests named, the status file written, nothing
// run and nothing left of the copy.
func TestRunMismatch(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"copy", "unpack", "unpack-valid-archive", "in-place", "fd"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			admitted := []byte("admitted")
			swapped := []byte("swapped")
			if mode == "unpack-valid-archive" {
				// A valid archive is unpacked while it is hashed: the tree is removed.
				swapped = tarGz(t, map[string]string{"bin/run": "#!/bin/sh\n"})
			}
			staged := writeFile(t, dir, "a.tar.gz", swapped, 0o644)
			status := filepath.Join(dir, "job-7.status")
			writeFile(t, dir, "job-7.status", []byte("stale"), 0o644)
			o := Options{File: staged, Digest: sum(admitted), Status: status, JobID: "7", Argv: []string{"true"}}
			job := filepath.Join(dir, "job")
			switch mode {
			case "copy":
				o.Copy = job
			case "unpack", "unpack-valid-archive":
				o.Unpack = job
			case "in-place":
				o.InPlace = job
			}
			ran := false
			o.Exec = func(string, []string, []string) error { ran = true; return nil }
			err := Run(context.Background(), o)
			if ran {
				t.Fatal("the command ran")
			}
			if exitcode.Of(err) != exitcode.NotVerified {
				t.Fatalf("exit code %d (%v), want 65", exitcode.Of(err), err)
			}
			for _, d := range []string{sum(admitted), sum(swapped), staged} {
				if !strings.Contains(err.Error(), d) {
					t.Errorf("error %q does not name %s", err, d)
				}
			}
			st := readStatus(t, status)
			if st.Verified || st.Check != "digest" || st.ExitCode != 65 || st.JobID != "7" || st.Version != 1 || st.Detail != err.Error() {
				t.Errorf("status %+v", st)
			}
			if _, err := os.Stat(job); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the job directory stays after a refusal: %v", err)
			}
		})
	}
}

// TestRunFD: without --copy or --unpack the command gets the checked copy,
// sealed in memory, as /dev/fd/N: replacing the staged file changes nothing.
func TestRunFD(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := []byte("data v1")
	staged := writeFile(t, dir, "data.bin", content, 0o644)
	o := Options{File: staged, Digest: sum(content), Argv: []string{"cat", staged}}
	c := recorder(t, &o, func() {
		writeFile(t, dir, "new", []byte("data v2"), 0o644)
		if err := os.Rename(filepath.Join(dir, "new"), staged); err != nil {
			t.Error(err)
		}
	})
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.argv[1], "/dev/fd/") || !bytes.Equal(c.artifact, content) {
		t.Errorf("argv %q reads %q, want /dev/fd/N with %q", c.argv, c.artifact, content)
	}
	if f, err := os.OpenFile(c.argv[1], os.O_WRONLY, 0); err == nil {
		if _, err := f.Write([]byte("changed")); err == nil {
			t.Errorf("the checked copy %s takes writes; want it sealed", c.argv[1])
		}
		f.Close()
	}
	if !strings.HasSuffix(c.argv0, "/cat") {
		t.Errorf("argv0 %q, want cat from PATH", c.argv0)
	}
}

func tarGz(t *testing.T, files map[string]string, extra ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	for _, h := range extra {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func TestRunUnpack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tgz := tarGz(t, map[string]string{"bin/run": "#!/bin/sh\n", "data/in": "x"})
	staged := writeFile(t, dir, "app.tar.gz", tgz, 0o644)
	job := filepath.Join(dir, "job")
	o := Options{File: staged, Digest: sum(tgz), Unpack: job, Argv: []string{"./bin/run", "data/in"}}
	c := recorder(t, &o, nil)
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if c.dir != job || c.argv0 != filepath.Join(job, "bin/run") || !slices.Equal(c.argv, o.Argv) {
		t.Errorf("exec %q %q in %q", c.argv0, c.argv, c.dir)
	}
	es, _ := os.ReadDir(job)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"bin", "data"}) {
		t.Errorf("the job directory holds %q, want only the unpacked files (the checked copy is unlinked)", names)
	}
}

func TestRunRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	evil := tarGz(t, map[string]string{"ok": "x"}, &tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644})
	evilPath := writeFile(t, dir, "evil.tar.gz", evil, 0o644)
	plain := writeFile(t, dir, "plain", []byte("plain"), 0o644)
	exists := filepath.Join(dir, "exists")
	os.Mkdir(exists, 0o700)
	for _, tc := range []struct {
		name  string
		o     Options
		code  exitcode.Code
		check string
		want  string
	}{
		{"bad digest", Options{File: plain, Digest: "sha256:12", Argv: []string{"true"}}, exitcode.Usage, "usage", "--digest \"sha256:12\""},
		{"no command", Options{File: plain, Digest: sum([]byte("plain"))}, exitcode.Usage, "usage", "no command after --"},
		{"both dirs", Options{File: plain, Digest: sum([]byte("plain")), Copy: "/a", Unpack: "/b", Argv: []string{"true"}}, exitcode.Usage, "usage", "more than one of --in-place, --copy and --unpack"},
		{"in place and copy", Options{File: plain, Digest: sum([]byte("plain")), Copy: "/a", InPlace: "/b", Argv: []string{"true"}}, exitcode.Usage, "usage", "more than one of"},
		{"staging root alone", Options{File: plain, Digest: sum([]byte("plain")), StagingRoot: dir, Argv: []string{"true"}}, exitcode.Usage, "usage", "--staging-root without --in-place"},
		{"bundles without policy", Options{File: plain, Digest: sum([]byte("plain")), Bundles: []string{"b"}, Argv: []string{"true"}}, exitcode.Usage, "usage", "--bundles without --policy"},
		{"missing file", Options{File: filepath.Join(dir, "nope"), Digest: sum(nil), Argv: []string{"true"}}, exitcode.NotVerified, "read", "nope"},
		{"a directory", Options{File: dir, Digest: sum(nil), Argv: []string{"true"}}, exitcode.NotVerified, "read", "a directory"},
		{"existing job dir", Options{File: plain, Digest: sum([]byte("plain")), Copy: exists, Argv: []string{"true"}}, exitcode.Usage, "jobdir", "exists already"},
		{"evil archive", Options{File: evilPath, Digest: sum(evil), Unpack: filepath.Join(dir, "evil-job"), Argv: []string{"true"}}, exitcode.NotVerified, "unpack", `tar entry "../escape": name climbs out`},
		{"not a tar.gz", Options{File: plain, Digest: sum([]byte("plain")), Unpack: filepath.Join(dir, "plain-job"), Argv: []string{"true"}}, exitcode.NotVerified, "unpack", "not a gzip-compressed tar"},
		{"no such command", Options{File: plain, Digest: sum([]byte("plain")), Argv: []string{"slipway-no-such-command"}}, exitcode.Failed, "exec", "command \"slipway-no-such-command\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Status = filepath.Join(t.TempDir(), "status")
			tc.o.Exec = func(string, []string, []string) error { t.Error("the command ran"); return nil }
			err := Run(context.Background(), tc.o)
			if exitcode.Of(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (code %d), want code %d and %q", err, exitcode.Of(err), tc.code, tc.want)
			}
			if st := readStatus(t, tc.o.Status); st.Check != tc.check || st.Verified || st.ExitCode != int(tc.code) {
				t.Errorf("status %+v, want check %q", st, tc.check)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the evil archive wrote outside: %v", err)
	}
}

// TestRunPolicy checks signatures with internal/verify, from the same read.
func TestRunPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := []byte("a signed release artifact")
	kp, pub := policytest.NewKeypair(t)
	other, _ := policytest.NewKeypair(t)
	policytest.WriteFile(t, dir, "release.pub", pub)
	pol := policytest.WriteFile(t, dir, "policy.yaml", []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nname: t\nkeys:\n  - name: release\n    path: release.pub\n"))
	staged := writeFile(t, dir, "app.bin", content, 0o644)
	good := policytest.WriteFile(t, dir, "good.sigstore.json", policytest.Bundle(t, &sign.PlainData{Data: content}, kp, sign.BundleOptions{}))
	bad := policytest.WriteFile(t, dir, "bad.sigstore.json", policytest.Bundle(t, &sign.PlainData{Data: content}, other, sign.BundleOptions{}))
	t.Run("signed", func(t *testing.T) {
		t.Parallel()
		o := Options{File: staged, Digest: sum(content), Policy: pol, Bundles: []string{good}, Copy: filepath.Join(dir, "job-good"), Argv: []string{"cat", staged}}
		c := recorder(t, &o, nil)
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.artifact, content) {
			t.Errorf("copy %q", c.artifact)
		}
	})
	t.Run("untrusted signer", func(t *testing.T) {
		t.Parallel()
		o := Options{File: staged, Digest: sum(content), Policy: pol, Bundles: []string{bad}, Copy: filepath.Join(dir, "job-bad"), Status: filepath.Join(dir, "bad.status"), Argv: []string{"true"}}
		o.Exec = func(string, []string, []string) error { t.Error("the command ran"); return nil }
		err := Run(context.Background(), o)
		if exitcode.Of(err) != exitcode.NotVerified {
			t.Fatalf("got %v, want exit code 65", err)
		}
		if st := readStatus(t, o.Status); st.Check != "signature" {
			t.Errorf("status %+v, want check signature", st)
		}
	})
	t.Run("swapped", func(t *testing.T) {
		t.Parallel()
		o := Options{File: staged, Digest: sum([]byte("the admitted one")), Policy: pol, Bundles: []string{good}, Argv: []string{"true"}}
		o.Exec = func(string, []string, []string) error { t.Error("the command ran"); return nil }
		err := Run(context.Background(), o)
		if exitcode.Of(err) != exitcode.NotVerified || !strings.Contains(err.Error(), sum(content)) || !strings.Contains(err.Error(), sum([]byte("the admitted one"))) {
			t.Fatalf("got %v, want exit code 65 naming both digests", err)
		}
	})
}
