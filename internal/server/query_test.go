package server

import (
	"net/url"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

func TestParseReleaseQuery(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	token := pageToken(store.Cursor{Created: day, ID: "r-0123456789abcdef"})
	for _, tc := range []struct {
		query string
		want  store.ReleaseQuery
	}{
		{"", store.ReleaseQuery{Limit: DefaultPageSize}},
		{"limit=100", store.ReleaseQuery{Limit: 100}},
		{"repository=github.com/Acme/App", store.ReleaseQuery{Repository: "https://github.com/Acme/App", Limit: DefaultPageSize}},
		{"repository=" + url.QueryEscape("git+https://GitHub.com/acme/app.git@refs/tags/v1"), store.ReleaseQuery{Repository: "https://github.com/acme/app", Limit: DefaultPageSize}},
		{"since=2026-12-05T01:00:00%2B01:00", store.ReleaseQuery{Since: day, Limit: DefaultPageSize}},
		// Stores keep milliseconds: a bound inside one is taken to its end.
		{"since=2026-12-05T00:00:00.0005Z&until=2026-12-05T00:00:01.0000001Z", store.ReleaseQuery{Since: day.Add(time.Millisecond), Until: day.Add(1001 * time.Millisecond), Limit: DefaultPageSize}},
		{"page_token=" + token, store.ReleaseQuery{After: &store.Cursor{Created: day, ID: "r-0123456789abcdef"}, Limit: DefaultPageSize}},
	} {
		v, _ := url.ParseQuery(tc.query)
		got, err := parseReleaseQuery(v)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if got.Repository != tc.want.Repository || got.Digest != tc.want.Digest || !got.Since.Equal(tc.want.Since) || !got.Until.Equal(tc.want.Until) ||
			got.Limit != tc.want.Limit || (got.After == nil) != (tc.want.After == nil) || (got.After != nil && *got.After != *tc.want.After) {
			t.Errorf("%q: %+v, want %+v", tc.query, got, tc.want)
		}
	}
}
