package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

type entry struct {
	name    string
	exec    bool
	content string
}

var fixture = []entry{
	{"bin/app", true, "#!/bin/sh\necho app\n"},
	{"bin/tool", true, "tool"},
	{"docs/guide/intro.md", false, "# Intro\n"},
	{"readme.txt", false, strings.Repeat("slipway ", 1000)},
}

func write(t *testing.T, entries []entry, mtime time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := NewGzip(&b)
	tw := NewTar(gz, mtime)
	for _, e := range entries {
		w, err := tw.File(e.name, e.exec, int64(len(e.content)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGolden pins the exact bytes (by digest) of a small archive: a change
// in the format breaks every user's reproducibility, so it must be seen.
func TestGolden(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1700000000, 0)
	got := write(t, fixture, epoch)
	// Sub-second parts and time zones do not matter.
	if again := write(t, fixture, time.Unix(1700000000, 999_999_999).In(time.FixedZone("X", 3600))); !bytes.Equal(got, again) {
		t.Fatal("the same entries gave different archives")
	}
	sum := sha256.Sum256(got)
	checkGolden(t, "fixture.tar.gz.sha256", hex.EncodeToString(sum[:])+"\n")
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("archive digest = %s, golden %s: the archive format changed", strings.TrimSpace(got), strings.TrimSpace(string(want)))
	}
}

func TestNormalizedHeaders(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1700000000, 0)
	b := write(t, fixture, epoch)
	// gzip: no FNAME/FCOMMENT flags, MTIME zero.
	if b[3] != 0 || !bytes.Equal(b[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header = % x, want no flags and zero MTIME", b[:10])
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d %q:%q, want zeroed", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, epoch)
		}
		want := int64(ModeFile)
		switch {
		case h.Typeflag == tar.TypeDir, strings.HasPrefix(h.Name, "bin/"):
			want = ModeExec
		}
		if h.Mode != want {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
		}
	}
	wantNames := "bin/ bin/app bin/tool docs/ docs/guide/ docs/guide/intro.md readme.txt"
	if strings.Join(names, " ") != wantNames {
		t.Errorf("entries = %q, want %q", names, wantNames)
	}
}

func TestTarErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		run     func(tw *Tar) error
		wantErr string
	}{
		{"out of order", func(tw *Tar) error {
			if _, err := tw.File("b", false, 0); err != nil {
				return err
			}
			_, err := tw.File("a", false, 0)
			return err
		}, "increasing order"},
		{"duplicate", func(tw *Tar) error {
			if _, err := tw.File("a", false, 0); err != nil {
				return err
			}
			_, err := tw.File("a", false, 0)
			return err
		}, "increasing order"},
		{"absolute", func(tw *Tar) error { _, err := tw.File("/etc/passwd", false, 0); return err }, "not a clean relative path"},
		{"dot dot", func(tw *Tar) error { _, err := tw.File("../x", false, 0); return err }, "not a clean relative path"},
		{"unclean", func(tw *Tar) error { _, err := tw.File("a//b", false, 0); return err }, "not a clean relative path"},
		{"short", func(tw *Tar) error {
			w, err := tw.File("a", false, 5)
			if err != nil {
				return err
			}
			io.WriteString(w, "abc")
			return tw.Close()
		}, "got 3 bytes, want 5; did the file change"},
		{"dir out of order", func(tw *Tar) error {
			if err := tw.Symlink("b", "a"); err != nil {
				return err
			}
			return tw.Dir("a", false)
		}, "increasing order"},
		{"empty link target", func(tw *Tar) error { return tw.Symlink("a", "") }, "cannot be archived"},
		{"dir dot dot", func(tw *Tar) error { return tw.Dir("..", false) }, "not a clean relative path"},
		{"long", func(tw *Tar) error {
			w, err := tw.File("a", false, 2)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, "abc")
			return err
		}, "did the file grow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.run(NewTar(io.Discard, time.Unix(0, 0)))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestDirsAndLinks checks the entries of an image root tree: an explicit
// directory keeps its place and is not added again as a parent, a sticky one
// gets 1777, and a link keeps its target as given (absolute, relative, or
// leading out of the tree: it is resolved where the archive is unpacked).
func TestDirsAndLinks(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1700000000, 0)
	var b bytes.Buffer
	tw := NewTar(&b, epoch)
	steps := []func() error{
		func() error { return tw.Dir("bin", false) },
		func() error { _, err := tw.File("bin/busybox", true, 0); return err },
		func() error { return tw.Symlink("bin/sh", "busybox") },
		func() error { return tw.Symlink("etc/abs", "/etc/ssl/certs") },
		func() error { return tw.Symlink("etc/up", "../../../x") },
		func() error { return tw.Dir("tmp", true) },
		func() error { return tw.Dir("usr/bin", false) },
		func() error { return tw.Close() },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	type got struct {
		typ  byte
		mode int64
		link string
	}
	want := map[string]got{
		"bin/":        {tar.TypeDir, ModeDir, ""},
		"bin/busybox": {tar.TypeReg, ModeExec, ""},
		"bin/sh":      {tar.TypeSymlink, 0o777, "busybox"},
		"etc/":        {tar.TypeDir, ModeDir, ""},
		"etc/abs":     {tar.TypeSymlink, 0o777, "/etc/ssl/certs"},
		"etc/up":      {tar.TypeSymlink, 0o777, "../../../x"},
		"tmp/":        {tar.TypeDir, ModeSticky, ""},
		"usr/":        {tar.TypeDir, ModeDir, ""},
		"usr/bin/":    {tar.TypeDir, ModeDir, ""},
	}
	var names []string
	tr := tar.NewReader(&b)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if g := (got{h.Typeflag, h.Mode, h.Linkname}); g != want[h.Name] {
			t.Errorf("%s: %+v, want %+v", h.Name, g, want[h.Name])
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(epoch) {
			t.Errorf("%s: owner %d:%d, mtime %v: not normalized", h.Name, h.Uid, h.Gid, h.ModTime)
		}
	}
	if w := "bin/ bin/busybox bin/sh etc/ etc/abs etc/up tmp/ usr/ usr/bin/"; strings.Join(names, " ") != w {
		t.Errorf("entries = %q, want %q", strings.Join(names, " "), w)
	}
}
