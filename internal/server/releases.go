package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// releaseRoutes are admission and the reading of admitted releases.
func (s *Server) releaseRoutes() []Route {
	if s.cfg.TLog == nil || s.cfg.Blobs == nil || s.cfg.Policy == nil || s.cfg.Staging == "" {
		return nil
	}
	a := newAdmitter(s)
	return []Route{
		{Pattern: "POST /api/v1/releases", Scope: token.Upload, Handler: a.admit},
		{Pattern: "GET /api/v1/releases/{id}", Scope: token.Read, Handler: s.getRelease},
		{Pattern: "GET /api/v1/releases/{id}/receipt", Scope: token.Read, Handler: s.getReceipt},
	}
}

var releaseID = lazyregexp.New(`^r-[0-9a-f]{16}$`)

func (s *Server) release(r *http.Request) (store.Release, error) {
	id := r.PathValue("id")
	if !releaseID.MatchString(id) {
		return store.Release{}, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such release",
			Detail: fmt.Sprintf("%q is not a release id (r- and 16 hex digits, as admission answered)", id)}
	}
	rel, err := s.cfg.Store.Release(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rel, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such release",
			Detail: fmt.Sprintf("release %q was not admitted here; check the id and the server URL", id)}
	}
	return rel, err
}

// getRelease is GET /api/v1/releases/{id}: the admission's answer.
func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, answerOf(rel))
}

// getReceipt is GET /api/v1/releases/{id}/receipt: the receipt text.
func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = w.Write(rel.Receipt)
	return err
}
