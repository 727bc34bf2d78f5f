package tlog

import (
	"net/http"
	"os"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/regfile"
)

// publicPath matches the only files of the log directory that are public,
// as C2SP tlog-tiles names them: checkpoint, tile/L/N[.p/W] and
// tile/entries/N[.p/W], where N is written in groups of three digits, all
// but the last prefixed with "x".
var publicPath = lazyregexp.New(`^(checkpoint|tile/(entries|[0-9]|[1-5][0-9]|6[0-3])/(x[0-9]{3}/)*[0-9]{3}(\.p/([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))?)$`)

// Handler serves the log in dir read-only to tlog-tiles clients: GET and
// HEAD of /checkpoint, /tile/... and /tile/entries/... relative to where it
// is mounted (use http.StripPrefix("/log", Handler(dir)) to serve /log/).
// Everything else — another file in the directory, such as tessera's .state
// or a key, a directory, a path with "..", "//" or any percent-encoding — is
// 404 (405 for other methods). Files are opened inside dir through os.Root,
// so a symbolic link cannot lead out of it.
func Handler(dir string) http.Handler {
	return &handler{dir: dir}
}

type handler struct{ dir string }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := publicName(w, r)
	if !ok {
		return
	}
	root, err := os.OpenRoot(h.dir)
	if err != nil {
		http.Error(w, "log unavailable", http.StatusServiceUnavailable)
		return
	}
	defer root.Close()
	f, err := regfile.OpenIn(root, name)
	if err != nil {
		// Missing, not a regular file, or a link leading out of dir.
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "log unavailable", http.StatusServiceUnavailable)
		return
	}
	setHeaders(w, name)
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// publicName returns the public file r asks for, relative to where the
// handler is mounted; when r is not a GET or HEAD of one, it answers (405
// or 404) and returns false.
func publicName(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the log is read-only", http.StatusMethodNotAllowed)
		return "", false
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/")
	if !ok || strings.Contains(r.URL.RawPath, "%") || strings.Contains(r.URL.EscapedPath(), "%") || !publicPath.MatchString(name) {
		http.NotFound(w, r)
		return "", false
	}
	return name, true
}

// setHeaders sets the content type and caching of the public file name:
// the checkpoint changes, a partial tile is replaced by a fuller one, a
// full tile never changes.
func setHeaders(w http.ResponseWriter, name string) {
	if name == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if !strings.Contains(name, ".p/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
}
