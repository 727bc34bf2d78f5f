package build

import (
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// unreadable is the name of a file whose reading fails, to test what a
// failure in the middle of the pass leaves behind.
const unreadable = "unreadable.injected"

var errInjected = errors.New("input/output error (injected by the test)")

func init() {
	open := openArtifact
	openArtifact = func(root *os.Root, name string) (*os.File, error) {
		if path.Base(name) == unreadable {
			return nil, &fs.PathError{Op: "read", Path: name, Err: errInjected}
		}
		return open(root, name)
	}
}

// workspace returns a new workspace holding files (name → content; a
// trailing "*" in the name makes the file executable).
func workspace(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// options returns Options for a test build in dir: the process's PATH and
// HOME only, no toolchains, a fixed SOURCE_DATE_EPOCH.
func options(dir string, artifacts ...string) Options {
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}
	return Options{
		Workspace: dir, Artifacts: artifacts, SourceDateEpoch: "1700000000",
		Getenv: func(k string) string { return env[k] },
	}
}

func run(t testing.TB, o Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	return res
}

// listFiles returns every path under dir (directories with a trailing
// slash), sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readManifest(t testing.TB, dir string) *artifact.Manifest {
	t.Helper()
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func names(records []artifact.Record) string {
	var n []string
	for _, r := range records {
		n = append(n, r.Name)
	}
	return strings.Join(n, " ")
}

func copyTree(t testing.TB, src, dst string, fileMode func(exec bool) os.FileMode) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Chmod(target, fileMode(fi.Mode()&0o111 != 0))
	})
	if err != nil {
		t.Fatal(err)
	}
}
