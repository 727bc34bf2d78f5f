package regfile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/regfile"
)

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want string
	}{
		{fifo, "a named pipe (FIFO)"},
		{fifoLink, "a named pipe (FIFO)"},
		{"/dev/zero", "a character device"},
		{dir, "a directory"},
		{file, ""},
		{link, ""},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			t.Parallel()
			done := make(chan error, 1)
			go func() {
				f, err := regfile.Open(tc.path)
				if err == nil {
					f.Close()
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Open(%q) blocked", tc.path)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Open(%q): %v", tc.path, err)
				}
				return
			}
			var nr *regfile.NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("Open(%q) = %v, want a NotRegularError saying %q", tc.path, err, tc.want)
			}
		})
	}
}

func TestReadAll(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := regfile.ReadAll(file, 10)
	if err != nil || string(b) != "0123456789" {
		t.Fatalf("ReadAll at the limit = %q, %v", b, err)
	}
	_, err = regfile.ReadAll(file, 9)
	var tl *regfile.TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "9 B") {
		t.Fatalf("ReadAll over the limit = %v, want a TooLargeError naming 9 B", err)
	}
	if _, err := regfile.ReadAll("/dev/zero", 1<<20); err == nil {
		t.Fatal("ReadAll(/dev/zero) succeeded")
	}
	if _, err := regfile.ReadAll(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadAll(missing) = %v, want ErrNotExist", err)
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{512: "512 B", 1024: "1 KiB", 64 << 20: "64 MiB", 3 << 29: "1.5 GiB", 1 << 40: "1 TiB"} {
		if got := regfile.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestOpenIn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	for name, make := range map[string]func(string) error{
		"file":     func(p string) error { return os.WriteFile(p, []byte("x"), 0o600) },
		"fifo":     func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"in-link":  func(p string) error { return os.Symlink("file", p) },
		"out-link": func(p string) error { return os.Symlink(outside, p) },
		"zero":     func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		if err := make(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, tc := range []struct{ name, want string }{
		{"file", ""},
		{"in-link", ""},
		{"fifo", "a named pipe (FIFO)"},
		{"out-link", "leaves"},
		{"zero", "leaves"},
		{"../" + filepath.Base(dir) + "/file", "leaves"},
		{outside, "leaves"},
		{"missing", "no such file"},
	} {
		done := make(chan error, 1)
		go func() {
			f, err := regfile.OpenIn(root, tc.name)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("OpenIn(%q) blocked", tc.name)
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("OpenIn(%q) = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestOpenErrorNamesThePathOnce(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.json")
	_, err := regfile.Open(missing)
	if err == nil {
		t.Fatal("Open of a missing file succeeded")
	}
	if want := fmt.Sprintf("opening %q: no such file or directory", missing); err.Error() != want {
		t.Errorf("Open() error = %q, want %q", err, want)
	}
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Errorf("Open() error %v does not unwrap to fs.ErrNotExist and *fs.PathError", err)
	}
}
