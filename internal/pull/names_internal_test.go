package pull

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"dist/app", true}, {"app", true}, {"dist/app.tar.gz.sigstore.json", true}, {"a b/c", true}, {"ünï/çödé", true},
		{"", false}, {"/etc/passwd", false}, {"../x", false}, {"..", false}, {".", false}, {"a/../../x", false},
		{"a/./b", false}, {"a//b", false}, {"a/", false}, {`a\b`, false}, {"a\x00b", false}, {"a\nb", false},
		{"\xff", false}, {strings.Repeat("a", 256), false}, {strings.Repeat("a/", 2100) + "a", false},
	} {
		if err := checkName(tc.name); (err == nil) != tc.ok {
			t.Errorf("checkName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		names []string
		ok    bool
	}{
		{[]string{"a/b", "a/c", "d"}, true},
		{[]string{"a", "a"}, false},
		{[]string{"a", "a/b"}, false},
		{[]string{"a/b/c", "a/b"}, false},
		{[]string{"a/b", "ab"}, true},
	} {
		ns := newNamespace()
		var err error
		for _, n := range tc.names {
			if err = ns.add(n, "layer "+n); err != nil {
				break
			}
		}
		if (err == nil) != tc.ok {
			t.Errorf("names %q: %v, want ok %v", tc.names, err, tc.ok)
		}
	}
}

// FuzzCheckName: a name checkName accepts stays inside the directory it is
// joined to, whatever it holds.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"dist/app", "../x", "a/../b", "/abs", `a\..\b`, "a//b", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if checkName(name) != nil {
			return
		}
		root := "/out"
		p := filepath.Join(root, filepath.FromSlash(name))
		if rel, err := filepath.Rel(root, p); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.ToSlash(rel) != name {
			t.Fatalf("checkName(%q) passed, but it leads to %q", name, p)
		}
	})
}
