package untar

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ent is one entry of a test archive.
type ent struct {
	name, link string
	typ        byte
	body       string
	mode       int64
	size       int64 // header size when not len(body) (a lying header)
}

func archive(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fresh returns a new directory to unpack into, inside a parent that holds
// a sentinel file: tests check that nothing but the directory changed.
func fresh(t testing.TB) (dir, parent string) {
	parent = t.TempDir()
	dir = filepath.Join(parent, "out")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "sentinel"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, parent
}

func checkParent(t testing.TB, parent string) {
	t.Helper()
	es, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		t.Fatalf("the parent directory holds %q: something was written outside the directory", names)
	}
	if b, err := os.ReadFile(filepath.Join(parent, "sentinel")); err != nil || string(b) != "s" {
		t.Fatalf("the sentinel outside changed: %q, %v", b, err)
	}
}

func TestExtract(t *testing.T) {
	t.Parallel()
	dir, parent := fresh(t)
	data := archive(t,
		ent{name: "./", typ: tar.TypeDir, mode: 0o755},
		ent{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		ent{name: "bin/run", body: "#!/bin/sh\necho hi\n", mode: 0o4755},
		ent{name: "data/in.txt", body: "input"}, // parent not in the archive
		ent{name: "data/again", typ: tar.TypeLink, link: "data/in.txt"},
		ent{name: "run", typ: tar.TypeSymlink, link: "bin/run"},
		ent{name: "data/up", typ: tar.TypeSymlink, link: "../bin"},
	)
	st, err := Extract(context.Background(), bytes.NewReader(data), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 7 || st.Bytes != int64(len("#!/bin/sh\necho hi\n")+len("input")) {
		t.Errorf("stats %+v", st)
	}
	fi, err := os.Stat(filepath.Join(dir, "bin/run"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0 || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("bin/run has mode %v: want the exec bit kept, setuid dropped", fi.Mode())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "data/again")); string(b) != "input" {
		t.Errorf("hard link reads %q", b)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "run")); l != "bin/run" {
		t.Errorf("symlink run -> %q", l)
	}
	checkParent(t, parent)
}

func TestExtractRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ents  []ent
		o     Options
		entry string // the entry the error names
		want  string
	}{
		{"dot-dot", []ent{{name: "../escape", body: "x"}}, Options{}, "../escape", "climbs out with .."},
		{"dot-dot inside", []ent{{name: "a/../../escape", body: "x"}}, Options{}, "a/../../escape", "climbs out"},
		{"absolute", []ent{{name: "/tmp/escape", body: "x"}}, Options{}, "/tmp/escape", "absolute name"},
		{"absolute symlink", []ent{{name: "l", typ: tar.TypeSymlink, link: "/etc"}}, Options{}, "l", "absolute path \"/etc\""},
		{"symlink out", []ent{{name: "a/l", typ: tar.TypeSymlink, link: "../../x"}}, Options{}, "a/l", "leads out"},
		{"symlink out and back", []ent{{name: "l", typ: tar.TypeSymlink, link: "../out/x"}}, Options{}, "l", "leads out"},
		{"write through an absolute layer link", []ent{{name: "l", typ: tar.TypeSymlink, link: "/"}, {name: "l/escape", body: "x"}}, Options{Layer: true}, "l/escape", "escapes"},
		{"write through a relative layer link", []ent{{name: "l", typ: tar.TypeSymlink, link: ".."}, {name: "l/escape", body: "x"}}, Options{Layer: true}, "l/escape", "escapes"},
		{"replace a symlink's target", []ent{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}, {name: "l", body: "x"}}, Options{Layer: true}, "", ""},
		{"char device", []ent{{name: "null", typ: tar.TypeChar}}, Options{}, "null", "a device file"},
		{"block device", []ent{{name: "sda", typ: tar.TypeBlock}}, Options{Layer: true}, "sda", "a device file"},
		{"fifo", []ent{{name: "p", typ: tar.TypeFifo}}, Options{}, "p", "FIFO"},
		{"hard link out", []ent{{name: "h", typ: tar.TypeLink, link: "../../etc/passwd"}}, Options{}, "h", "not a file inside the archive"},
		{"hard link to a symlink", []ent{{name: "l", typ: tar.TypeSymlink, link: "x"}, {name: "h", typ: tar.TypeLink, link: "l"}}, Options{}, "h", "not a regular file"},
		{"hard link to nothing", []ent{{name: "h", typ: tar.TypeLink, link: "missing"}}, Options{}, "h", "not a regular file"},
		{"twice", []ent{{name: "a", body: "1"}, {name: "a", body: "2"}}, Options{}, "a", "appears twice"},
		{"file then dir", []ent{{name: "a", body: "1"}, {name: "a/", typ: tar.TypeDir}}, Options{}, "a/", "a directory where"},
		{"too large", []ent{{name: "a", body: "12345"}, {name: "b", body: "678901"}}, Options{MaxBytes: 10}, "b", "limit of 10 B"},
		{"too many", []ent{{name: "a"}, {name: "b"}, {name: "c"}}, Options{MaxEntries: 2}, "c", "more than 2 entries"},
		{"the root as a file", []ent{{name: ".", body: "x"}}, Options{}, ".", "as something other than a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, parent := fresh(t)
			_, err := Extract(context.Background(), bytes.NewReader(archive(t, tc.ents...)), dir, tc.o)
			checkParent(t, parent)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ee *EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("got %v, want an error naming entry %q", err, tc.entry)
			}
			if ee.Name != tc.entry || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want entry %q and %q", err, tc.entry, tc.want)
			}
		})
	}
}

func TestExtractTruncated(t *testing.T) {
	t.Parallel()
	data := archive(t, ent{name: "a", body: strings.Repeat("x", 4096)})
	dir, parent := fresh(t)
	_, err := Extract(context.Background(), bytes.NewReader(data[:1024]), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("a truncated archive gave %v, want an error naming entry a", err)
	}
	checkParent(t, parent)
}

func TestExtractLayerWhiteouts(t *testing.T) {
	t.Parallel()
	dir, parent := fresh(t)
	lower := archive(t,
		ent{name: "etc/keep", body: "k"},
		ent{name: "etc/gone", body: "g"},
		ent{name: "opq/old", body: "o"},
		ent{name: "over", body: "lower"},
	)
	upper := archive(t,
		ent{name: "etc/.wh.gone"},
		ent{name: "opq/new", body: "n"},
		ent{name: "opq/.wh..wh..opq"},
		ent{name: "over", body: "upper"},
	)
	for _, l := range [][]byte{lower, upper} {
		if _, err := Extract(context.Background(), bytes.NewReader(l), dir, Options{Layer: true}); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[string]string{"etc/keep": "k", "etc/gone": "", "opq/old": "", "opq/new": "n", "over": "upper", "etc/.wh.gone": ""} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if want == "" {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after its whiteout (%v)", p, err)
			}
			continue
		}
		if string(b) != want {
			t.Errorf("%s = %q (%v), want %q", p, b, err, want)
		}
	}
	checkParent(t, parent)
}

// FuzzExtract: whatever the bytes, Extract never panics and never writes
// outside the directory, and a release's symbolic links stay inside it.
func FuzzExtract(f *testing.F) {
	f.Add(archive(f, ent{name: "a/b", body: "x"}, ent{name: "l", typ: tar.TypeSymlink, link: "a/b"}), false)
	f.Add(archive(f, ent{name: "l", typ: tar.TypeSymlink, link: "/"}, ent{name: "l/x", body: "x"}), true)
	f.Add(archive(f, ent{name: "h", typ: tar.TypeLink, link: "a"}, ent{name: ".wh.a"}), true)
	f.Add(archive(f, ent{name: "../x", body: "x"}), false)
	f.Fuzz(func(t *testing.T, data []byte, layer bool) {
		dir, parent := fresh(t)
		_, _ = Extract(context.Background(), bytes.NewReader(data), dir, Options{Layer: layer, MaxBytes: 1 << 20, MaxEntries: 1000})
		checkParent(t, parent)
		if layer {
			return
		}
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			target, _ := os.Readlink(p)
			rel, _ := filepath.Rel(dir, filepath.Join(filepath.Dir(p), target))
			if filepath.IsAbs(target) || !filepath.IsLocal(rel) {
				t.Fatalf("symbolic link %s -> %q leads out of %s", p, target, dir)
			}
			if d.Type()&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0 {
				t.Fatalf("%s is %v", p, d.Type())
			}
			return nil
		})
	})
}
