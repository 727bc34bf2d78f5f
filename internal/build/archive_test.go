package build

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
)

// TestArchiveGolden builds the fixture tree under testdata/tree into an
// archive from three copies that differ in modification times, permission
// bits (as different umasks leave them) and owners: the subjects file (the
// digest of every file and of the archive) must be the golden one each time.
func TestArchiveGolden(t *testing.T) {
	t.Parallel()
	copies := []struct {
		name  string
		mode  func(exec bool) os.FileMode
		mtime time.Time
		owner int // -1: leave
	}{
		{"umask 022", func(x bool) os.FileMode { return map[bool]os.FileMode{false: 0o644, true: 0o755}[x] }, time.Now(), -1},
		{"umask 077", func(x bool) os.FileMode { return map[bool]os.FileMode{false: 0o600, true: 0o700}[x] }, time.Unix(86400, 0), 4242},
		{"umask 002", func(x bool) os.FileMode { return map[bool]os.FileMode{false: 0o664, true: 0o775}[x] }, time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC), 1001},
	}
	var first []byte
	for _, c := range copies {
		dir := t.TempDir()
		copyTree(t, filepath.Join("testdata", "tree"), filepath.Join(dir, "fixture"), c.mode)
		err := filepath.Walk(filepath.Join(dir, "fixture"), func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if c.owner >= 0 && os.Geteuid() == 0 {
				if err := os.Lchown(p, c.owner, c.owner); err != nil {
					return err
				}
			}
			return os.Chtimes(p, c.mtime, c.mtime)
		})
		if err != nil {
			t.Fatal(err)
		}
		o := options(dir, "fixture")
		o.Archive = "fixture.tar.gz"
		res := run(t, o)
		subjects, err := os.ReadFile(filepath.Join(dir, res.SubjectsPath))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = subjects
			checkGolden(t, "fixture.subjects.sha256", subjects)
		} else if !bytes.Equal(subjects, first) {
			t.Errorf("%s: subjects differ from the first copy:\n%s\nwant\n%s", c.name, subjects, first)
		}
		// The archive's recorded digest is that of the file on disk.
		d, size, err := digest.File(filepath.Join(dir, "dist", "fixture.tar.gz"))
		if err != nil || d != res.Archive.Digest || size != res.Archive.Size {
			t.Errorf("%s: archive on disk %s (%d bytes, %v), recorded %s (%d)", c.name, d, size, err, res.Archive.Digest, res.Archive.Size)
		}
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n%s\nwant\n%s", name, got, want)
	}
}
