package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// artifactRoutes read admitted artifacts by digest (scope read).
func (s *Server) artifactRoutes() []Route {
	if s.cfg.Blobs == nil {
		return nil
	}
	return []Route{{Pattern: "GET /api/v1/artifacts/{digest}", Scope: token.Read, Handler: s.getArtifact}}
}

// getArtifact streams an artifact of an admitted release, with Range and
// If-None-Match support (http.ServeContent); the ETag is its digest.
func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request) error {
	d, err := digest.Parse(r.PathValue("digest"))
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-digest", Title: "Malformed digest",
			Detail: fmt.Sprintf("%v; name the artifact as /api/v1/artifacts/sha256:<64 hex characters>", err)}
	}
	if _, err := s.cfg.Store.ArtifactByDigest(r.Context(), d.String()); errors.Is(err, store.ErrNotFound) {
		return &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such artifact",
			Detail: fmt.Sprintf("no admitted release holds an artifact with digest %q; check the digest in the release's manifest", d)}
	} else if err != nil {
		return err
	}
	f, err := s.cfg.Blobs.Open(r.Context(), d)
	if errors.Is(err, blobstore.ErrNotFound) {
		return fmt.Errorf("artifact %q is recorded in a release but its blob is missing from the blob store (restore it from a backup): %w", d, err)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}
