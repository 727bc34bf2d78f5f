package digestcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// Off is the value of the cache setting that turns the cache off.
const Off = "off"

// maxRepositories bounds the repositories an entry remembers (the most
// recent ones are kept).
const maxRepositories = 16

// entryLimit bounds what is read of an entry file.
const entryLimit = 64 << 10

// Cache is a directory of entries, one file per cached path. A nil *Cache
// is a cache that is off: it misses and stores nothing.
type Cache struct {
	dir string
}

// New returns the cache in dir, created when first written; nil (off)
// when dir is "" or Off.
func New(dir string) *Cache {
	if dir == "" || dir == Off {
		return nil
	}
	return &Cache{dir: dir}
}

// DefaultDir is where the cache lives when none is configured:
// $XDG_CACHE_HOME/slipway/digests, else $HOME/.cache/slipway/digests; ""
// (no cache) when neither variable is set.
func DefaultDir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "slipway", "digests")
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "slipway", "digests")
	}
	return ""
}

// Dir is the cache's directory ("" when off).
func (c *Cache) Dir() string {
	if c == nil {
		return ""
	}
	return c.dir
}

// Entry is what the cache knows about one file.
type Entry struct {
	Path     string
	Identity Identity
	Digest   digest.SHA256
	// Repositories hold the content ("registry/repository"), most recent
	// last.
	Repositories []string
}

// record is an entry as it is stored.
type record struct {
	Path         string   `json:"path"`
	Identity     Identity `json:"identity"`
	SHA256       string   `json:"sha256"`
	Repositories []string `json:"repositories,omitempty"`
}

// Lookup returns the entry of the file at path (an absolute path; symbolic
// links are followed) when the file's identity is still the one recorded.
func (c *Cache) Lookup(path string) (Entry, bool) {
	if c == nil {
		return Entry{}, false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Entry{}, false
	}
	id, ok := IdentityOf(fi)
	if !ok {
		return Entry{}, false
	}
	e, ok := c.read(path)
	if !ok || e.Identity != id {
		return Entry{}, false
	}
	return e, true
}

// read returns the stored entry of path, whatever the file's identity now.
func (c *Cache) read(path string) (Entry, bool) {
	b, err := regfile.ReadAll(c.file(path), entryLimit)
	if err != nil {
		return Entry{}, false
	}
	e, err := decode(b)
	if err != nil || e.Path != path {
		return Entry{}, false
	}
	return e, true
}

// decode parses a stored entry.
func decode(b []byte) (Entry, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return Entry{}, err
	}
	d, err := digest.Parse(r.SHA256)
	if err != nil {
		return Entry{}, err
	}
	if r.Path == "" || !filepath.IsAbs(r.Path) || r.Identity.Size < 0 || len(r.Repositories) > maxRepositories {
		return Entry{}, fmt.Errorf("damaged entry")
	}
	return Entry{Path: r.Path, Identity: r.Identity, Digest: d, Repositories: r.Repositories}, nil
}

// Store records d as the digest of the file at path, whose identity was id
// both before and after a read that began at readStart and computed d from
// every byte. It stores nothing (and reports false) when the file's times
// are too close to the read (see RacyWindow), or the cache cannot be
// written. Repositories of an earlier entry with the same digest are kept.
func (c *Cache) Store(path string, id Identity, d digest.SHA256, readStart time.Time) bool {
	if c == nil || !id.Settled(readStart) {
		return false
	}
	e := Entry{Path: path, Identity: id, Digest: d}
	if prev, ok := c.read(path); ok && prev.Digest == d {
		e.Repositories = prev.Repositories
	}
	return c.write(e) == nil
}

// AddRepository records that repo ("registry/repository") holds the
// content of the file at path, when the cache has an entry for it with
// identity id and digest d (nothing otherwise: a digest the cache did not
// compute is never stored).
func (c *Cache) AddRepository(path string, id Identity, d digest.SHA256, repo string) {
	if c == nil {
		return
	}
	e, ok := c.read(path)
	if !ok || e.Identity != id || e.Digest != d {
		return
	}
	e.Repositories = slices.DeleteFunc(e.Repositories, func(r string) bool { return r == repo })
	e.Repositories = append(e.Repositories, repo)
	if n := len(e.Repositories); n > maxRepositories {
		e.Repositories = e.Repositories[n-maxRepositories:]
	}
	_ = c.write(e)
}

// Forget removes the entry of path (for an entry found to be wrong).
func (c *Cache) Forget(path string) {
	if c != nil {
		_ = os.Remove(c.file(path))
	}
}

func (c *Cache) write(e Entry) error {
	b, err := json.Marshal(record{Path: e.Path, Identity: e.Identity, SHA256: e.Digest.String(), Repositories: e.Repositories})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(c.file(e.Path), b, 0o600)
}

// file is where the entry of path is kept: named by the SHA-256 of the path.
func (c *Cache) file(path string) string {
	h := sha256.Sum256([]byte(path))
	return filepath.Join(c.dir, hex.EncodeToString(h[:])+".json")
}
