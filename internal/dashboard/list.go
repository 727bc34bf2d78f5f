package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/cpclient"
)

// listQuery carries a list page's search and keyset cursor between the
// page's URL and the API's query: the page's own links keep the search,
// the API gets the cursor (page_token) and the page size.
type listQuery struct {
	path string     // the page, "/ui/jobs"
	Here url.Values // the page's search, without the cursor
	API  url.Values // the API's query
	// First is the link back to the first page, on a later page.
	First string
	// Bad are the search fields that could not be read, each saying why.
	Bad []string
}

// newListQuery starts the query of the list page at path from its
// request's query in, with pageSize rows (the API takes at most 100).
func newListQuery(path string, in url.Values, pageSize int) *listQuery {
	q := &listQuery{path: path, Here: url.Values{}, API: url.Values{"limit": {strconv.Itoa(min(pageSize, 100))}}}
	if tok := in.Get("page_token"); tok != "" {
		q.API.Set("page_token", tok)
		defer func() { q.First = q.link() }()
	}
	return q
}

// search adds a search field: kept in the page's links, and given to the
// API as is, or as an RFC 3339 time when time is set.
func (q *listQuery) search(name, value string, time bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return
	}
	q.Here.Set(name, value)
	if time {
		t, err := parseTime(value)
		if err != nil {
			q.Bad = append(q.Bad, fmt.Sprintf("%s %q is not a time; give 2026-12-05, 2026-12-05T14:00 (UTC) or an RFC 3339 time", name, value))
			return
		}
		value = t
	}
	q.API.Set(name, value)
}

// link is the page's URL with its search (and cursor, when set).
func (q *listQuery) link() string {
	if len(q.Here) == 0 {
		return q.path
	}
	return q.path + "?" + q.Here.Encode()
}

// next is the link to the page after this one, from the API's "next"
// URL; "" on the last page.
func (q *listQuery) next(apiNext string) string {
	tok := cpclient.PageToken(apiNext)
	if tok == "" {
		return ""
	}
	v := url.Values{}
	for k, x := range q.Here {
		v[k] = x
	}
	v.Set("page_token", tok)
	return q.path + "?" + v.Encode()
}
