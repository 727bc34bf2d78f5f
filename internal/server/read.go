package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// readRoutes list and search admitted releases and serve their files: the
// admitted manifest and every record's blob (scope read).
func (s *Server) readRoutes() []Route {
	if s.cfg.Blobs == nil {
		return nil
	}
	return []Route{
		{Pattern: "GET /api/v1/releases", Scope: token.Read, Handler: s.listReleases},
		{Pattern: "GET /api/v1/releases/{id}/manifest", Scope: token.Read, Handler: s.getManifest},
		{Pattern: "GET /api/v1/releases/{id}/files", Scope: token.Read, Handler: s.listFiles},
		{Pattern: "GET /api/v1/releases/{id}/files/{path...}", Scope: token.Read, Handler: s.getFile},
	}
}

// releaseList is the JSON of GET /api/v1/releases.
type releaseList struct {
	Releases []releaseAnswer `json:"releases"`
	// Next is the URL of the next page, absent on the last.
	Next string `json:"next,omitempty"`
}

// listReleases is GET /api/v1/releases: releases newest first, filtered by
// the query, a page at a time; the next page's URL is in "next" and in a
// Link header (rel="next").
func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) error {
	q, err := parseReleaseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page := q.Limit
	q.Limit++ // one more tells whether there is a next page
	rels, err := s.cfg.Store.Releases(r.Context(), q)
	if err != nil {
		return err
	}
	out := releaseList{Releases: make([]releaseAnswer, 0, min(len(rels), page))}
	for i, rel := range rels {
		if i == page {
			next := r.URL.Query()
			next.Set("page_token", pageToken(store.CursorOf(rels[page-1])))
			out.Next = (&url.URL{Path: r.URL.Path, RawQuery: next.Encode()}).String()
			w.Header().Set("Link", "<"+out.Next+`>; rel="next"`)
			break
		}
		out.Releases = append(out.Releases, answerOf(rel))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// fileList is the JSON of GET /api/v1/releases/{id}/files.
type fileList struct {
	ReleaseID      string       `json:"releaseId"`
	ManifestDigest string       `json:"manifestDigest"`
	Files          []fileAnswer `json:"files"`
}

type fileAnswer struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
	Describes string `json:"describes,omitempty"`
}

// listFiles is GET /api/v1/releases/{id}/files: every record of the
// admitted manifest that has a file.
func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	out := fileList{ReleaseID: rel.ID, ManifestDigest: rel.ManifestDigest, Files: make([]fileAnswer, len(rel.Files))}
	for i, f := range rel.Files {
		out.Files[i] = fileAnswer{Role: f.Role, Name: f.Name, Path: f.Path, Digest: f.Digest, Size: f.Size, MediaType: f.MediaType, Describes: f.Describes}
	}
	return writeJSON(w, http.StatusOK, out)
}

// getManifest is GET /api/v1/releases/{id}/manifest: the manifest
// admission verified, as its canonical JSON (RFC 8785) whose SHA-256 is
// the release's manifestDigest, without receipt records.
func (s *Server) getManifest(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	d, err := digest.Parse(rel.ManifestDigest)
	if err != nil {
		return fmt.Errorf("release %q has the manifest digest %q: %w", rel.ID, rel.ManifestDigest, err)
	}
	m, err := s.cfg.Store.ReleaseManifest(r.Context(), rel.ID)
	if errors.Is(err, store.ErrNotFound) {
		// Admitted before the store kept manifests (schema version 5):
		// schemas 3 and 4 kept it as a blob under its digest.
		return s.serveBlob(w, r, d, "application/json", fmt.Sprintf(
			"release %q was admitted before this server kept admitted manifests (schema version 3): its manifest is not stored; the client that uploaded it has it", rel.ID))
	}
	if err != nil {
		return err
	}
	setContentHeaders(w, d, "application/json")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(m))
	return nil
}

// getFile is GET /api/v1/releases/{id}/files/{path}: the file a record of
// the release has at path, streamed (Range supported).
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.release(r)
	if err != nil {
		return err
	}
	path := r.PathValue("path")
	for _, f := range rel.Files {
		if f.Path != path {
			continue
		}
		d, err := digest.Parse(f.Digest)
		if err != nil {
			return fmt.Errorf("file %q of release %q has the digest %q: %w", f.Path, rel.ID, f.Digest, err)
		}
		return s.serveBlob(w, r, d, f.MediaType, "")
	}
	return &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such file",
		Detail: fmt.Sprintf("release %q has no file at %q; GET /api/v1/releases/%s/files lists its files and their paths", rel.ID, path, rel.ID)}
}

// serveBlob streams blob d with Range and If-None-Match support
// (http.ServeContent); the ETag is its digest. A missing blob is a 404
// saying missing when set, else a 500 (a recorded blob must be there).
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, d digest.SHA256, contentType, missing string) error {
	f, err := s.cfg.Blobs.Open(r.Context(), d)
	if errors.Is(err, blobstore.ErrNotFound) {
		if missing != "" {
			return &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "Not stored", Detail: missing}
		}
		return fmt.Errorf("blob %q is recorded in a release but missing from the blob store (restore it from a backup): %w", d, err)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	setContentHeaders(w, d, contentType)
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// setContentHeaders sets the headers of content d: its type
// (application/octet-stream when ""), its digest as ETag, and immutable.
func setContentHeaders(w http.ResponseWriter, d digest.SHA256, contentType string) {
	h := w.Header()
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
}
