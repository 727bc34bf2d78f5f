package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/store"
)

// DefaultPageSize and MaxPageSize bound the limit parameter of
// GET /api/v1/releases.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// param is a query parameter of a list endpoint, with the form it takes
// (in 400 answers and the OpenAPI document).
type param struct{ name, form string }

// listParams are the query parameters GET /api/v1/releases accepts.
var listParams = []param{
	{"repository", "a source repository: github.com/owner/repo or https://github.com/owner/repo"},
	{"digest", "sha256:<64 hex characters>, of an artifact, a bundle, an SBOM or the manifest"},
	{"since", "an RFC 3339 time such as 2026-12-05T00:00:00Z (inclusive)"},
	{"until", "an RFC 3339 time such as 2026-12-06T00:00:00Z (exclusive)"},
	{"limit", fmt.Sprintf("a whole number from 1 to %d (default %d)", MaxPageSize, DefaultPageSize)},
	{"page_token", "the page_token of the next link of the previous page, unchanged"},
}

// parseReleaseQuery reads the query of GET /api/v1/releases into a store
// query; the limit is the page size asked for. A bad parameter is a 400
// naming it and the form it takes.
func parseReleaseQuery(v url.Values) (store.ReleaseQuery, error) {
	return parseListQuery(v, listParams, releaseID.Regexp())
}

// parseListQuery reads the parameters of a list endpoint, those of params
// (some of listParams; any other is a 400), into a release query whose
// cursor's id has form idForm.
func parseListQuery(v url.Values, params []param, idForm *regexp.Regexp) (q store.ReleaseQuery, err error) {
	form := func(name string) string {
		i := slices.IndexFunc(listParams, func(p param) bool { return p.name == name })
		return listParams[i].form
	}
	for name, vals := range v {
		if !slices.ContainsFunc(params, func(p param) bool { return p.name == name }) {
			var names []string
			for _, p := range params {
				names = append(names, p.name)
			}
			return q, badParam(name, "is not a parameter of this endpoint", "use "+strings.Join(names, ", "))
		}
		if len(vals) != 1 {
			return q, badParam(name, fmt.Sprintf("is given %d times", len(vals)), "give it once, as "+form(name))
		}
	}
	q.Limit = DefaultPageSize
	if s := v.Get("repository"); s != "" {
		uri := s
		if !strings.Contains(uri, "://") {
			uri = "https://" + uri
		}
		if q.Repository, err = policy.ParseRepository(uri); err != nil {
			return q, badParam("repository", fmt.Sprintf("%q %v", s, err), "give "+form("repository"))
		}
	}
	if s := v.Get("digest"); s != "" {
		d, err := digest.Parse(s)
		if err != nil {
			return q, badParam("digest", err.Error(), "give "+form("digest"))
		}
		q.Digest = d.String()
	}
	if q.Since, err = timeParam(v, "since", form("since")); err != nil {
		return q, err
	}
	if q.Until, err = timeParam(v, "until", form("until")); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, badParam("until", fmt.Sprintf("%q is not after since %q", v.Get("until"), v.Get("since")), "give an until later than since")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return q, badParam("limit", fmt.Sprintf("%q is not a page size", s), "give "+form("limit"))
		}
		q.Limit = n
	}
	if s := v.Get("page_token"); s != "" {
		c, err := parsePageTokenOf(s, idForm)
		if err != nil {
			return q, badParam("page_token", err.Error(), "give "+form("page_token")+", or none for the first page")
		}
		q.After = &c
	}
	return q, nil
}

func timeParam(v url.Values, name, form string) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, badParam(name, fmt.Sprintf("%q is not an RFC 3339 time", s), "give "+form+"; in a URL, write + as %2B")
	}
	// Stores keep milliseconds: a bound inside a millisecond is taken to
	// its end, so that since stays inclusive and until exclusive.
	if t.Truncate(time.Millisecond) != t {
		t = t.Truncate(time.Millisecond).Add(time.Millisecond)
	}
	return t.UTC(), nil
}

func badParam(name, what, fix string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad query parameter", Check: name,
		Detail: fmt.Sprintf("query parameter %q %s: %s", name, what, fix)}
}

// pageTokenVersion starts every page token, so that its form can change.
const pageTokenVersion = "1"

// pageToken is the opaque position after c: base64url of
// "1.<created Unix ms>.<release id>". Positions are keys, not offsets, so a
// release admitted between two pages moves nothing.
func pageToken(c store.Cursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s.%d.%s", pageTokenVersion, c.Created.UnixMilli(), c.ID))
}

func parsePageToken(s string) (store.Cursor, error) { return parsePageTokenOf(s, releaseID.Regexp()) }

// parsePageTokenOf reads a page token whose id has form idForm.
func parsePageTokenOf(s string, idForm *regexp.Regexp) (store.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 128 {
		return store.Cursor{}, fmt.Errorf("%q is not a page token", truncate(s, 64))
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != pageTokenVersion || !idForm.MatchString(parts[2]) {
		return store.Cursor{}, fmt.Errorf("%q is not a page token of this server", truncate(s, 64))
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || ms < 0 {
		return store.Cursor{}, fmt.Errorf("%q is not a page token of this server", truncate(s, 64))
	}
	return store.Cursor{Created: time.UnixMilli(ms).UTC(), ID: parts[2]}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
