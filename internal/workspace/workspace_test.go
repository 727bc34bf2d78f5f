package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree makes a workspace with links that stay inside and links that leave,
// and an outside directory beside it. It returns the workspace and outside.
func tree(t testing.TB) (ws, outside string) {
	t.Helper()
	base := t.TempDir()
	ws, outside = filepath.Join(base, "ws"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(ws, "a", "b"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(ws, "a", "b", "file"), filepath.Join(outside, "secret")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"in":          "a",
		"inabs":       filepath.Join(ws, "a"),
		"file":        "a/b/file",
		"out":         outside,
		"outrel":      "../outside",
		"fileout":     filepath.Join(outside, "secret"),
		"a/up":        "..",
		"a/upup":      "../..",
		"a/b/deep":    "../../in/b",
		"loop1":       "loop2",
		"loop2":       "loop1",
		"dangling":    "missing-target",
		"danglingout": filepath.Join(outside, "new"),
		"back":        "../ws/a",
		"chainout":    "in/../outrel",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(ws, name)); err != nil {
			t.Fatal(err)
		}
	}
	return ws, outside
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ws, outside := tree(t)
	r, err := New(ws)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want string // relative to ws; "" when an error is expected
		why  Reason // for *EscapeError
		link string // the link named by a Symlink error
	}{
		{in: ".", want: "."},
		{in: "a/b/file", want: "a/b/file"},
		{in: "./a//b/", want: "a/b"},
		{in: "in/b/file", want: "a/b/file"},
		{in: "inabs/b", want: "a/b"},
		{in: "file", want: "a/b/file"},
		{in: "new/dir/x", want: "new/dir/x"},
		{in: "a/up/a/b", want: "a/b"},
		{in: "a/../a/b", want: "a/b"},
		{in: "a/b/deep/file", want: "a/b/file"},
		{in: "dangling", want: "missing-target"},
		{in: "back/b", want: "a/b"},
		{in: "new/../a", want: "a"},
		{in: "a/b/file/x", want: "a/b/file/x"},
		{in: filepath.Join(ws, "a", "b"), want: "a/b"},
		{in: ws, want: "."},
		{in: "../x", why: DotDot},
		{in: "..", why: DotDot},
		{in: "a/../../x", why: DotDot},
		{in: "in/../../x", why: DotDot},
		{in: "new/../../x", why: DotDot},
		{in: "/etc/passwd", why: Absolute},
		{in: filepath.Join(outside, "secret"), why: Absolute},
		{in: ws + "/../outside/secret", why: Absolute},
		{in: "out/manifest.json", why: Symlink, link: "out"},
		{in: "out", why: Symlink, link: "out"},
		{in: "outrel/secret", why: Symlink, link: "outrel"},
		{in: "fileout", why: Symlink, link: "fileout"},
		{in: "a/upup/x", why: Symlink, link: "a/upup"},
		{in: "danglingout", why: Symlink, link: "danglingout"},
		{in: "chainout/secret", why: Symlink, link: "outrel"},
		{in: "in/b/../../out/x", why: Symlink, link: "out"},
		{in: "", why: Empty},
		{in: "a\x00b", why: NUL},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := r.Resolve(tt.in)
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Resolve(%q): %v", tt.in, err)
				}
				if want := filepath.Join(ws, tt.want); got != want {
					t.Fatalf("Resolve(%q) = %q, want %q", tt.in, got, want)
				}
				checkKernel(t, ws, tt.in, got)
				return
			}
			var ee *EscapeError
			if !errors.As(err, &ee) {
				t.Fatalf("Resolve(%q) = %q, %v; want an *EscapeError", tt.in, got, err)
			}
			if ee.Reason != tt.why || ee.Link != tt.link {
				t.Fatalf("Resolve(%q): reason %d link %q, want %d %q: %v", tt.in, ee.Reason, ee.Link, tt.why, tt.link, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "give a path inside the workspace") ||
				(tt.why != Empty && !strings.Contains(msg, `"`+strings.ReplaceAll(tt.in, "\x00", `\x00`)+`"`)) {
				t.Fatalf("Resolve(%q): the error does not name the input and the fix: %s", tt.in, msg)
			}
			if tt.why == Symlink && (!strings.Contains(msg, `"`+ee.Path+`"`) || !strings.Contains(ee.Path, filepath.Dir(outside))) {
				t.Fatalf("Resolve(%q): the error does not say where the link leads: %s", tt.in, msg)
			}
		})
	}
}

// checkKernel compares a resolved existing path with the kernel's view.
func checkKernel(t *testing.T, ws, in, got string) {
	t.Helper()
	p := in
	if !filepath.IsAbs(p) {
		p = ws + "/" + in // not filepath.Join: it would clean ".." lexically
	}
	if _, err := os.Stat(p); err != nil {
		return
	}
	kernel, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	if mine, _ := filepath.EvalSymlinks(got); mine != kernel {
		t.Fatalf("Resolve(%q) = %q, the kernel reaches %q", in, got, kernel)
	}
}

func TestResolveLoop(t *testing.T) {
	t.Parallel()
	ws, _ := tree(t)
	_, err := Resolve(ws, "loop1/x")
	var ee *EscapeError
	if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), "symbolic links (a loop?)") || !strings.Contains(err.Error(), `"loop1/x"`) {
		t.Fatalf("Resolve(loop1/x) = %v; want an error naming the input and the loop", err)
	}
}

// A workspace named through a link: paths under either name are inside, and
// results keep the name the caller used.
func TestResolveLinkedRoot(t *testing.T) {
	t.Parallel()
	ws, _ := tree(t)
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(ws, alias); err != nil {
		t.Fatal(err)
	}
	r, err := New(alias)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"in/b", filepath.Join(ws, "a", "b"), filepath.Join(alias, "a", "b")} {
		got, err := r.Resolve(in)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", in, err)
		}
		if want := filepath.Join(alias, "a", "b"); got != want {
			t.Fatalf("Resolve(%q) = %q, want %q", in, got, want)
		}
		if rel, ok := r.Rel(got); !ok || rel != "a/b" {
			t.Fatalf("Rel(%q) = %q, %v", got, rel, ok)
		}
	}
	if _, ok := r.Rel(filepath.Join(ws, "..", "outside")); ok {
		t.Fatal("Rel accepted a path outside the workspace")
	}
}

func TestNewMissing(t *testing.T) {
	t.Parallel()
	_, err := New(filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "run from an existing directory") {
		t.Fatalf("New(missing) = %v", err)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"a/b/file", "../x", "out/x", "in/../../x", "a/upup/x", "back/b", "/etc", "dangling", "chainout/s", "a/b/deep/../../.."} {
		f.Add(s)
	}
	ws, _ := tree(f)
	r, err := New(ws)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := r.Resolve(in)
		p := in
		if !filepath.IsAbs(p) {
			p = ws + "/" + in // not filepath.Join: it would clean ".." lexically
		}
		kernel, kerr := filepath.EvalSymlinks(p)
		if err != nil {
			// Refused: the kernel must not reach a place inside by the same
			// relative path (absolute ones are judged by name first).
			var ee *EscapeError
			if errors.As(err, &ee) && ee.Reason != Empty && kerr == nil && !filepath.IsAbs(in) {
				if _, inside := within(ws, kernel); inside {
					t.Fatalf("Resolve(%q) refused (%v), but the kernel reaches %q inside", in, err, kernel)
				}
			}
			return
		}
		if _, ok := within(ws, got); !ok {
			t.Fatalf("Resolve(%q) = %q, outside %q", in, got, ws)
		}
		if kerr == nil {
			if mine, _ := filepath.EvalSymlinks(got); mine != kernel {
				t.Fatalf("Resolve(%q) = %q, the kernel reaches %q", in, got, kernel)
			}
		}
	})
}
