package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

// FuzzReleaseQuery: any query string is parsed without a panic into
// either a query within bounds or a 400 naming one parameter.
func FuzzReleaseQuery(f *testing.F) {
	for _, s := range []string{"", "repository=github.com/o/r&limit=5", "digest=sha256:" + "ab" + "cd", "since=2026-12-05T00:00:00Z&until=2026-12-06T00:00:00Z",
		"page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "r-0123456789abcdef"}), "limit=0", "x=1", "digest=a&digest=b", "repository=%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return // the server answers an unparsable query with 400 before this
		}
		q, err := parseReleaseQuery(v)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Detail, "query parameter "+strconv.Quote(p.Check)+" ") {
				t.Fatalf("error %v is not a 400 naming a parameter", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxPageSize {
			t.Fatalf("limit %d out of bounds", q.Limit)
		}
		if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
			t.Fatalf("since %v not before until %v", q.Since, q.Until)
		}
		if q.After != nil {
			back, err := parsePageToken(pageToken(*q.After))
			if err != nil || back != *q.After {
				t.Fatalf("page token does not round-trip: %+v -> %+v, %v", *q.After, back, err)
			}
		}
	})
}
