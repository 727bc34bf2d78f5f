package server

import (
	"errors"
	"net/http"
	"net/url"
	"os"
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

// FuzzRejectionQuery: any query string of GET /api/v1/rejections is
// parsed without a panic into a query within bounds whose cursor is a log
// index that round-trips through its page token, or a 400 naming one
// parameter.
func FuzzRejectionQuery(f *testing.F) {
	for _, s := range []string{"", "repository=github.com/o/r&limit=5", "since=2026-12-05T00:00:00Z&until=2026-12-06T00:00:00Z",
		"page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "18446744073709551615"}), "page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "18446744073709551616"}),
		"page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "r-0123456789abcdef"}), "digest=sha256:00", "limit=101", "=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseRejectionQuery(v)
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
			n, err := strconv.ParseUint(q.After.ID, 10, 64)
			if err != nil || strconv.FormatUint(n, 10) != q.After.ID {
				t.Fatalf("cursor %q is not a log index", q.After.ID)
			}
			if back := store.RejectionCursor(store.Rejection{Created: q.After.Created, LogIndex: n}); back != *q.After {
				t.Fatalf("cursor does not round-trip: %+v -> %+v", *q.After, back)
			}
		}
	})
}

// FuzzPage: the query of the dispatch and request lists is parsed without
// a panic into a limit within bounds and a cursor on an id of the list's
// form, or a 400 naming one parameter.
func FuzzPage(f *testing.F) {
	for _, s := range []string{"", "limit=5&state=pending", "page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "q-0123456789abcdef"}),
		"page_token=" + pageToken(store.Cursor{Created: time.UnixMilli(1), ID: "r-0123456789abcdef"}), "limit=0", "x=1", "state=a&state=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		limit, after, err := parsePage(v, requestIDForm, "state")
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Detail, "query parameter "+strconv.Quote(p.Check)+" ") {
				t.Fatalf("error %v is not a 400 naming a parameter", err)
			}
			return
		}
		if limit < 1 || limit > MaxPageSize {
			t.Fatalf("limit %d out of bounds", limit)
		}
		if after != nil && !requestIDForm.MatchString(after.ID) {
			t.Fatalf("cursor id %q is not a request id", after.ID)
		}
	})
}

// TestTailFile: the last lines of a job's output, within a byte bound,
// never a partial first line; nothing for a file not there.
func TestTailFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/job.out"
	if got, err := tailFile(path, 5, 100); err != nil || got != nil {
		t.Fatalf("missing file: %q %v", got, err)
	}
	var all strings.Builder
	for i := range 100 {
		all.WriteString("line " + strconv.Itoa(i) + "\n")
	}
	if err := os.WriteFile(path, []byte(all.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lines int
		limit int64
		want  string
	}{
		{1, 1 << 10, "line 99\n"},
		{3, 1 << 10, "line 97\nline 98\nline 99\n"},
		{1000, 1 << 20, all.String()},
		{1000, 20, "line 98\nline 99\n"}, // the partial line before is dropped
	} {
		got, err := tailFile(path, c.lines, c.limit)
		if err != nil || string(got) != c.want {
			t.Errorf("tail %d lines within %d bytes: %q %v, want %q", c.lines, c.limit, got, err, c.want)
		}
	}
}
