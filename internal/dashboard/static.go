package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// staticFS holds the dashboard's scripts and styles: htmx as npm ships it
// (docs/dashboard.md has its version and digest) and our own files.
//
//go:embed static
var staticFS embed.FS

// staticFiles serves static/ under /ui/static/: a URL with the file's
// content hash (?v=, from the templates' static helper) is cached for a
// year as immutable; any other is revalidated.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	content     []byte
	hash        string // the first 16 hex digits of its SHA-256
	contentType string
}

func loadStatic() (*staticFiles, error) {
	s := &staticFiles{files: map[string]staticFile{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := p[len("static/"):]
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		s.files[name] = staticFile{content: b, hash: hex.EncodeToString(sum[:8]), contentType: ct}
		return nil
	})
	return s, err
}

// url is the URL of static file name (a path under static/) with its
// content hash; a name that is not embedded fails the page's rendering.
func (s *staticFiles) url(name string) (string, error) {
	f, ok := s.files[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/ui/static/" + name + "?v=" + f.hash, nil
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.content))
}
