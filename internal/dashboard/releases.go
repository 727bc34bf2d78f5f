package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/cpclient"
)

func (d *Dashboard) releasePages() []page {
	return []page{
		{Pattern: "GET /ui/{$}", Handler: d.releaseList},
		{Pattern: "GET /ui/releases/{id}", Handler: d.releaseDetail},
	}
}

// Release is an admitted release as GET /api/v1/releases answers it.
type Release struct {
	ReleaseID        string     `json:"releaseId"`
	LogIndex         uint64     `json:"logIndex"`
	Receipt          string     `json:"receipt"`
	ManifestDigest   string     `json:"manifestDigest"`
	SourceRepository string     `json:"sourceRepository"`
	Uploader         string     `json:"uploader"`
	Created          time.Time  `json:"created"`
	Artifacts        []Artifact `json:"artifacts"`
	Checks           []string   `json:"checks"`
}

// Artifact is one file a release binds.
type Artifact struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// releaseQuery is the list's search form: the API's parameters.
type releaseQuery struct {
	Repository, Digest, Since, Until string
}

// releaseListData is the data of releases.html.
type releaseListData struct {
	Query    releaseQuery
	Releases []Release
	// Next is the URL of the next page; "" on the last.
	Next string
	// First is set on a page after the first (a link back to the start).
	First string
	// Error is the API's refusal of the search (400), shown by the form.
	Error string
}

// releaseList is GET /ui/: releases newest first, searched by
// repository, digest and time through GET /api/v1/releases, a page at a
// time by its keyset cursor (page_token).
func (d *Dashboard) releaseList(w http.ResponseWriter, r *http.Request, s *session) error {
	in := r.URL.Query()
	q := releaseQuery{Repository: strings.TrimSpace(in.Get("repository")), Digest: strings.TrimSpace(in.Get("digest")),
		Since: strings.TrimSpace(in.Get("since")), Until: strings.TrimSpace(in.Get("until"))}
	data := releaseListData{Query: q}
	api := url.Values{"limit": {strconv.Itoa(d.o.PageSize)}}
	var bad []string
	for _, p := range []struct{ name, value string }{{"repository", q.Repository}, {"digest", q.Digest}, {"since", q.Since}, {"until", q.Until}} {
		v := p.value
		if v == "" {
			continue
		}
		if p.name == "since" || p.name == "until" {
			t, err := parseTime(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s %q is not a time; give 2026-12-05, 2026-12-05T14:00 (UTC) or an RFC 3339 time", p.name, v))
				continue
			}
			v = t
		}
		api.Set(p.name, v)
	}
	if tok := in.Get("page_token"); tok != "" {
		api.Set("page_token", tok)
		data.First = "/ui/?" + q.values().Encode()
	}
	status := http.StatusOK
	if len(bad) > 0 {
		data.Error, status = strings.Join(bad, "; "), http.StatusBadRequest
		return d.renderStatus(w, r, s, status, "releases.html", "layout.html", data)
	}
	var page struct {
		Releases []Release `json:"releases"`
		Next     string    `json:"next"`
	}
	err := d.client(s).JSON(r.Context(), "listing releases", "GET", "/api/v1/releases", api, nil, &page)
	if ae := apiError(err); ae != nil && ae.Status == http.StatusBadRequest {
		data.Error, status = ae.Detail, http.StatusBadRequest
		return d.renderStatus(w, r, s, status, "releases.html", "layout.html", data)
	}
	if err != nil {
		return err
	}
	data.Releases = page.Releases
	if tok := cpclient.PageToken(page.Next); tok != "" {
		v := q.values()
		v.Set("page_token", tok)
		data.Next = "/ui/?" + v.Encode()
	}
	return d.render(w, r, s, "releases.html", data)
}

// values are q's non-empty fields as the dashboard's query.
func (q releaseQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"repository": q.Repository, "digest": q.Digest, "since": q.Since, "until": q.Until} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// parseTime reads a time from the search form as the API's RFC 3339: a
// date, a datetime-local value (both UTC) or RFC 3339 itself.
func parseTime(s string) (string, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339), nil
		}
	}
	return "", fmt.Errorf("%q is not a time", s)
}
