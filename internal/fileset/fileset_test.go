package fileset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tree creates files (name → content; a "->" prefix makes a symbolic link
// to the rest, "|fifo" a named pipe) under a new directory.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(content, "->"):
			target := strings.ReplaceAll(strings.TrimPrefix(content, "->"), "$ROOT", root)
			err = os.Symlink(target, p)
		case content == "|fifo":
			err = syscall.Mkfifo(p, 0o644)
		case strings.HasSuffix(name, "/"):
			err = os.MkdirAll(p, 0o755)
		default:
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var cleanTree = map[string]string{
	"dist/app":              "app",
	"dist/app.sha256":       "sum",
	"dist/debug.log":        "log",
	"dist/lib/libx.so":      "lib",
	"dist/lib/sub/deep.txt": "deep",
	"docs/readme.md":        "doc",
	".git/config":           "git",
	".hidden/h.txt":         "hidden",
	"src/main.go":           "go",
	"odd[name].txt":         "odd",
	"links/inside":          "->../dist/app",
	"links/insidedir":       "->../docs",
	"links/abs-inside":      "->$ROOT/docs/readme.md",
	"empty/":                "",
}

var badTree = map[string]string{
	"dist/app":          "app",
	"escape/out":        "->/etc/hostname",
	"escape/outdir":     "->/etc",
	"escape/up":         "->../../..",
	"loop/a/back":       "->..",
	"loop/file":         "x",
	"special/fifo":      "|fifo",
	"broken/dangling":   "->nowhere",
	"ok/file.txt":       "ok",
	"ok/outside-unused": "->/etc/hostname",
}

func TestResolve(t *testing.T) {
	t.Parallel()
	clean, bad := tree(t, cleanTree), tree(t, badTree)
	allDist := "dist/app dist/app.sha256 dist/debug.log dist/lib/libx.so dist/lib/sub/deep.txt"
	tests := []struct {
		name     string
		bad      bool // use the tree with bad links
		patterns []string
		exclude  []string
		want     string // "name" or "name=open", space-separated
		wantErr  string
	}{
		{name: "star", patterns: []string{"dist/*"}, want: allDist},
		{name: "doublestar", patterns: []string{"dist/**"}, want: allDist},
		{name: "directory", patterns: []string{"dist"}, want: allDist},
		{name: "deep suffix", patterns: []string{"dist/**/*.so"}, want: "dist/lib/libx.so"},
		{name: "exclusion", patterns: []string{"dist/**", "!dist/*.log"}, want: "dist/app dist/app.sha256 dist/lib/libx.so dist/lib/sub/deep.txt"},
		{name: "last match wins", patterns: []string{"dist/**", "!dist/lib", "dist/lib/sub/*"}, want: "dist/app dist/app.sha256 dist/debug.log dist/lib/sub/deep.txt"},
		{name: "hidden files but not .git", patterns: []string{"**/*.txt"}, want: ".hidden/h.txt dist/lib/sub/deep.txt odd[name].txt"},
		{name: "search skips linked directories", patterns: []string{"**/*.md"}, want: "docs/readme.md"},
		{name: "dot slash", patterns: []string{"./dist/app"}, want: "dist/app"},
		{name: "absolute inside", patterns: []string{clean + "/dist/app"}, want: "dist/app"},
		{name: "escaped meta", patterns: []string{`odd\[name\].txt`}, want: "odd[name].txt"},
		{name: "link to file", patterns: []string{"links/inside"}, want: "links/inside=dist/app"},
		{name: "absolute link inside", patterns: []string{"links/abs-inside"}, want: "links/abs-inside=docs/readme.md"},
		{name: "link to directory", patterns: []string{"links/insidedir"}, want: "links/insidedir/readme.md=docs/readme.md"},
		{name: "caller exclusions", patterns: []string{"dist/**"}, exclude: []string{"dist/lib", "dist/app.sha256"}, want: "dist/app dist/debug.log"},
		{name: "unmatched outside link ignored", bad: true, patterns: []string{"ok/*.txt"}, want: "ok/file.txt"},

		{name: "dot dot", patterns: []string{"../x"}, wantErr: `pattern "../x" leaves the workspace`},
		{name: "inner dot dot", patterns: []string{"dist/../../x"}, wantErr: "leaves the workspace"},
		{name: "absolute outside", patterns: []string{"/etc/passwd"}, wantErr: `pattern "/etc/passwd" is outside the workspace`},
		{name: "bad glob", patterns: []string{"dist/["}, wantErr: "not a valid glob"},
		{name: "only exclusions", patterns: []string{"!dist/app"}, wantErr: "no pattern selects files"},
		{name: "no match", patterns: []string{"dist/app", "nothing/here"}, wantErr: `pattern "nothing/here" matched no files`},
		{name: ".git is never searched", patterns: []string{"**/config"}, wantErr: "matched no files"},
		{name: "empty directory", patterns: []string{"empty"}, wantErr: "matched no files"},
		{name: "all excluded", patterns: []string{"dist/**", "!dist/**"}, wantErr: "exclude every file"},
		{name: "link outside", bad: true, patterns: []string{"escape/out"}, wantErr: `"escape/out" is a symbolic link to "/etc/hostname", outside the workspace`},
		{name: "glob over link outside", bad: true, patterns: []string{"escape/**"}, wantErr: "outside the workspace"},
		{name: "link up and out", bad: true, patterns: []string{"escape/up"}, wantErr: "outside the workspace"},
		{name: "base through link outside", bad: true, patterns: []string{"escape/outdir/*"}, wantErr: `"escape/outdir" leads outside the workspace`},
		{name: "loop", bad: true, patterns: []string{"loop/**"}, wantErr: "a loop"},
		{name: "fifo", bad: true, patterns: []string{"special/*"}, wantErr: `"special/fifo" is not a regular file`},
		{name: "dangling", bad: true, patterns: []string{"broken/*"}, wantErr: `symbolic link "broken/dangling" cannot be resolved`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := clean
			if tc.bad {
				root = bad
			}
			files, err := resolve(root, tc.patterns, tc.exclude)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve(%q) error = %v, want it to contain %q", tc.patterns, err, tc.wantErr)
				}
				if !errors.Is(err, ErrInput) {
					t.Errorf("error %v does not match ErrInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q) error = %v", tc.patterns, err)
			}
			var got []string
			for _, f := range files {
				if f.Open == f.Name {
					got = append(got, f.Name)
				} else {
					got = append(got, f.Name+"="+f.Open)
				}
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("Resolve(%q) =\n  %s\nwant\n  %s", tc.patterns, strings.Join(got, " "), tc.want)
			}
		})
	}
}

func resolve(root string, patterns, exclude []string) ([]File, error) {
	ps, err := Parse(root, patterns)
	if err != nil {
		return nil, err
	}
	return Resolve(context.Background(), root, ps, Options{Exclude: exclude})
}

func TestMatch(t *testing.T) {
	t.Parallel()
	ps, err := Parse("/ws", []string{"dist/**", "!**/*.log", "dist/keep.log"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"dist/app": true, "dist/a/b": true, "dist/x.log": false, "dist/keep.log": true, "src/a": false,
	} {
		if got := Match(ps, path); got != want {
			t.Errorf("Match(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestEscapeMeta(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain/path", "a[1]/b*c?{d,e}", `back\slash`, "!bang"} {
		ps, err := Parse("/ws", []string{EscapeMeta(s)})
		if err != nil {
			t.Fatalf("Parse(EscapeMeta(%q)): %v", s, err)
		}
		if !Match(ps, s) {
			t.Errorf("EscapeMeta(%q) = %q does not match itself", s, EscapeMeta(s))
		}
		if Match(ps, s+"x") || Match(ps, "x"+s) {
			t.Errorf("EscapeMeta(%q) matches more than itself", s)
		}
	}
}

// FuzzGlob feeds arbitrary patterns to the parser and the walker over a tree
// full of links leading out: nothing may panic, and nothing returned may be
// outside the workspace.
func FuzzGlob(f *testing.F) {
	for _, p := range []string{"dist/*", "**", "escape/**", "../x", "/etc/*", "!a\nb/**", "loop/**", "links/*", "{a,b}/**/c?[x-z]", `odd\[`, ".", "./**/./x"} {
		f.Add(p)
	}
	files := map[string]string{}
	for k, v := range cleanTree {
		files[k] = v
	}
	for k, v := range badTree {
		files["bad/"+k] = v
	}
	root := tree(f, files)
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ps, err := Parse(root, strings.Split(in, "\n"))
		if err != nil {
			return
		}
		for _, p := range ps {
			if filepath.IsAbs(p.Glob) || strings.HasPrefix(p.Glob, "../") || p.Glob == ".." {
				t.Fatalf("Parse(%q) kept a pattern leaving the workspace: %q", in, p.Glob)
			}
		}
		got, err := Resolve(context.Background(), root, ps, Options{})
		if err != nil {
			return
		}
		for _, f := range got {
			for _, p := range []string{f.Name, f.Open} {
				if !filepath.IsLocal(p) {
					t.Fatalf("Resolve(%q) returned %q, not local", in, p)
				}
			}
			real, err := filepath.EvalSymlinks(filepath.Join(root, f.Open))
			if err != nil {
				t.Fatalf("Resolve(%q) returned %q, which does not resolve: %v", in, f.Open, err)
			}
			if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) {
				t.Fatalf("Resolve(%q) returned %q, which is outside the workspace (%s)", in, f.Name, real)
			}
			if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("Resolve(%q) returned %q, not a regular file", in, f.Name)
			}
		}
	})
}
