package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// rejectedRoutes list the admissions the server refused (scope read).
func (s *Server) rejectedRoutes() []Route {
	return []Route{{Pattern: "GET /api/v1/rejections", Scope: token.Read, Handler: s.listRejections}}
}

// recordRejection records a refusal whose release-rejected entry the log
// has taken (at r.LogIndex) in the store, for GET /api/v1/rejections,
// removing its intent. It runs after the append, and a failure is logged,
// not answered: the client gets its 422 with the receipt either way, and
// the pending intent is finished by the same manifest sent again or at the
// next start (intents.go).
func (s *Server) recordRejection(ctx context.Context, r store.Rejection) {
	if err := s.cfg.Store.CreateRejection(context.WithoutCancel(ctx), r); err == nil {
		s.recorded(r.ManifestDigest)
	} else {
		s.log.Error("rejection not recorded in the store yet; the log holds its entry, and its pending intent is finished when the same manifest is sent again or at the next start", "request_id", requestID(ctx),
			"log_index", r.LogIndex, "release", r.ReleaseID, "err", err.Error())
	}
}

// rejectionParams are the query parameters of GET /api/v1/rejections.
var rejectionParams = []param{listParams[0], listParams[2], listParams[3], listParams[4], listParams[5]}

// logIndexForm is a log index in a rejection's page token.
var logIndexForm = lazyregexp.New(`^(0|[1-9][0-9]{0,19})$`)

// parseRejectionQuery reads the query of GET /api/v1/rejections: the
// parameters of GET /api/v1/releases but digest, parsed the same way.
func parseRejectionQuery(v url.Values) (store.RejectionQuery, error) {
	q, err := parseListQuery(v, rejectionParams, logIndexForm.Regexp())
	if err == nil && q.After != nil {
		if _, perr := strconv.ParseUint(q.After.ID, 10, 64); perr != nil {
			err = badParam("page_token", "is not a page token of this list", "give "+listParams[5].form+", or none for the first page")
		}
	}
	return store.RejectionQuery{Repository: q.Repository, Since: q.Since, Until: q.Until, After: q.After, Limit: q.Limit}, err
}

// rejectionAnswer is one refused admission.
type rejectionAnswer struct {
	LogIndex       uint64    `json:"logIndex"`
	Created        time.Time `json:"created"`
	ReleaseID      string    `json:"releaseId"`
	ManifestDigest string    `json:"manifestDigest"`
	Repository     string    `json:"repository"`
	Uploader       string    `json:"uploader"`
	Check          string    `json:"check"`
	Subject        string    `json:"subject"`
	Detail         string    `json:"detail"`
}

// rejectionList is the JSON of GET /api/v1/rejections.
type rejectionList struct {
	Rejections []rejectionAnswer `json:"rejections"`
	// Next is the URL of the next page, absent on the last.
	Next string `json:"next,omitempty"`
}

// listRejections is GET /api/v1/rejections: refused admissions newest
// first, filtered by repository and time, a page at a time (the next
// page's URL in "next" and a Link header), as GET /api/v1/releases.
func (s *Server) listRejections(w http.ResponseWriter, r *http.Request) error {
	q, err := parseRejectionQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page := q.Limit
	q.Limit++ // one more tells whether there is a next page
	list, err := s.cfg.Store.Rejections(r.Context(), q)
	if err != nil {
		return err
	}
	out := rejectionList{Rejections: make([]rejectionAnswer, 0, min(len(list), page))}
	for i, x := range list {
		if i == page {
			out.Next = nextPage(w, r, store.RejectionCursor(list[page-1]))
			break
		}
		out.Rejections = append(out.Rejections, rejectionAnswer{LogIndex: x.LogIndex, Created: x.Created.UTC(), ReleaseID: x.ReleaseID,
			ManifestDigest: x.ManifestDigest, Repository: x.Repository, Uploader: x.Uploader, Check: x.Check, Subject: x.Subject, Detail: x.Detail})
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
