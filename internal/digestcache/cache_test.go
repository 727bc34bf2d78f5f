package digestcache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
)

// settledFile writes content to a file whose times lie well before now, as
// a file built earlier has, and returns its path and identity.
func settledFile(t *testing.T, dir, name string, content []byte) (string, Identity) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, identity(t, p)
}

func identity(t *testing.T, p string) Identity {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := IdentityOf(fi)
	if !ok {
		t.Skip("no file identity on this platform")
	}
	return id
}

func digestOf(t *testing.T, p string) digest.SHA256 {
	t.Helper()
	d, _, err := digest.File(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// later is a read start far enough after a file's times for them to be
// settled.
func later() time.Time { return time.Now().Add(RacyWindow + time.Second) }

func TestStoreAndLookup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := New(filepath.Join(dir, "cache"))
	p, id := settledFile(t, dir, "a.bin", []byte("content"))
	d := digestOf(t, p)
	if _, ok := c.Lookup(p); ok {
		t.Fatal("hit before anything was stored")
	}
	if !c.Store(p, id, d, later()) {
		t.Fatal("Store refused a settled file")
	}
	e, ok := c.Lookup(p)
	if !ok || e.Digest != d || e.Identity != id || e.Path != p {
		t.Fatalf("Lookup = %+v, %v; want the stored digest %s", e, ok, d)
	}
	// A link to it finds the same entry only under its own path.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lookup(link); ok {
		t.Error("a path nothing was stored for hit")
	}
	fi, _ := os.Stat(filepath.Join(dir, "cache"))
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory mode %v, want 0700", fi.Mode().Perm())
	}
}

// TestChangedFileMisses: any write (even one that keeps the size and puts
// the modification time back) makes the entry miss.
func TestChangedFileMisses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, p string)
	}{
		{"rewritten, same size", func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("CONTENT"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"rewritten, modification time set back", func(t *testing.T, p string) {
			fi, _ := os.Stat(p)
			if err := os.WriteFile(p, []byte("CONTENT"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by another file", func(t *testing.T, p string) {
			tmp := p + ".new"
			if err := os.WriteFile(tmp, []byte("content"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}},
		{"appended to", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write([]byte("!"))
			f.Close()
		}},
		{"removed", func(t *testing.T, p string) { os.Remove(p) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c := New(filepath.Join(dir, "cache"))
			p, id := settledFile(t, dir, "a.bin", []byte("content"))
			if !c.Store(p, id, digestOf(t, p), later()) {
				t.Fatal("Store refused a settled file")
			}
			time.Sleep(10 * time.Millisecond) // a new clock tick for the file times
			tc.change(t, p)
			if e, ok := c.Lookup(p); ok {
				t.Errorf("hit after the file was %s: %+v", tc.name, e)
			}
		})
	}
}

// TestRacyReadIsNotStored: a file written less than RacyWindow before the
// read began is not cached.
func TestRacyReadIsNotStored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := New(filepath.Join(dir, "cache"))
	p, id := settledFile(t, dir, "fresh.bin", []byte("just built"))
	if c.Store(p, id, digestOf(t, p), time.Now()) {
		t.Error("Store kept the digest of a file written just before the read")
	}
	if _, ok := c.Lookup(p); ok {
		t.Error("hit for a racy entry")
	}
}

func TestRepositories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := New(filepath.Join(dir, "cache"))
	p, id := settledFile(t, dir, "a.bin", []byte("content"))
	d := digestOf(t, p)
	c.AddRepository(p, id, d, "r/one") // no entry yet: nothing recorded
	c.Store(p, id, d, later())
	c.AddRepository(p, id, d, "r/one")
	c.AddRepository(p, id, d, "r/two")
	c.AddRepository(p, id, d, "r/one")
	other := d
	other[0]++
	c.AddRepository(p, id, other, "r/wrong-digest")
	e, _ := c.Lookup(p)
	if got := e.Repositories; len(got) != 2 || got[0] != "r/two" || got[1] != "r/one" {
		t.Errorf("Repositories = %q, want [r/two r/one]", got)
	}
	for i := range maxRepositories + 3 {
		c.AddRepository(p, id, d, "r/"+string(rune('a'+i)))
	}
	e, _ = c.Lookup(p)
	if len(e.Repositories) != maxRepositories {
		t.Errorf("%d repositories kept, want %d", len(e.Repositories), maxRepositories)
	}
	// Storing the same digest again keeps them; another digest drops them.
	c.Store(p, id, d, later())
	if e, _ = c.Lookup(p); len(e.Repositories) != maxRepositories {
		t.Errorf("re-storing the same digest dropped the repositories")
	}
	c.Forget(p)
	if _, ok := c.Lookup(p); ok {
		t.Error("hit after Forget")
	}
}

// TestDamagedEntriesMiss: whatever is in an entry file, Lookup misses
// rather than fails or trusts it.
func TestDamagedEntriesMiss(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := New(filepath.Join(dir, "cache"))
	p, id := settledFile(t, dir, "a.bin", []byte("content"))
	c.Store(p, id, digestOf(t, p), later())
	for _, content := range []string{"", "{", `{"path":"` + p + `"}`, `{"path":"relative","sha256":"sha256:` + digest.SHA256{}.Hex() + `"}`} {
		if err := os.WriteFile(c.file(p), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if e, ok := c.Lookup(p); ok {
			t.Errorf("entry %q: hit %+v", content, e)
		}
	}
	// A FIFO planted as the entry does not block.
	os.Remove(c.file(p))
	if err := mkfifo(c.file(p)); err == nil {
		if _, ok := c.Lookup(p); ok {
			t.Error("hit for a FIFO entry")
		}
	}
}

func TestOffAndDefaultDir(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"", Off} {
		c := New(dir)
		if c != nil || c.Dir() != "" {
			t.Errorf("New(%q) = %v, want nil (off)", dir, c)
		}
		c.Store("/x", Identity{}, digest.SHA256{}, later()) // no panic
		c.AddRepository("/x", Identity{}, digest.SHA256{}, "r")
		c.Forget("/x")
		if _, ok := c.Lookup("/x"); ok {
			t.Error("an off cache hit")
		}
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/slipway/digests"},
		{map[string]string{"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.cache/slipway/digests"},
		{map[string]string{}, ""},
	}
	for _, tc := range tests {
		if got := DefaultDir(env(tc.env)); got != tc.want {
			t.Errorf("DefaultDir(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"path":"/a","identity":{"dev":1,"ino":2,"size":3,"mtimeNs":4,"ctimeNs":5},"sha256":"sha256:` + digest.SHA256{}.Hex() + `","repositories":["r/a"]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decode(b)
		if err == nil && (!filepath.IsAbs(e.Path) || e.Identity.Size < 0 || len(e.Repositories) > maxRepositories) {
			t.Errorf("decode accepted %+v", e)
		}
	})
}
