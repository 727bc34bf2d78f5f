package server

import (
	"errors"
	"fmt"
	"net/http"

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
	return s.serveBlob(w, r, d, "application/octet-stream", "")
}
