package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
	"github.com/slipway/actions/internal/store/storetest"
)

// The searches use the indexes of migration 3, not a scan of every release.
func TestReleasesQueryPlan(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	for _, q := range []store.ReleaseQuery{
		{Limit: 10},
		{Repository: "https://github.com/o/one", Limit: 10},
		{Repository: "https://github.com/o/one", After: &store.Cursor{ID: "r-1"}, Since: time.Unix(1, 0), Limit: 10},
		{Digest: "sha256:aa", Limit: 10},
	} {
		where, args := sqlkit.ReleaseFilter(q)
		query := `EXPLAIN QUERY PLAN SELECT r.id FROM releases r`
		if len(where) > 0 {
			query += ` WHERE ` + strings.Join(where, ` AND `)
		}
		query += ` ORDER BY r.created DESC, r.id DESC LIMIT 10`
		rows, err := db.read.Query(query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		switch {
		case q.Digest != "" && strings.Contains(text, "SCAN r"):
			t.Errorf("query %+v: plan %q scans every release for a digest", q, text)
		case q.Digest == "" && (strings.Contains(text, "TEMP B-TREE") || !strings.Contains(text, "INDEX releases_by_")):
			t.Errorf("query %+v: plan %q sorts or scans without an index", q, text)
		}
	}
}

// BenchmarkReleases: a page of releases with their artifacts (storetest.BenchmarkReleases).
func BenchmarkReleases(b *testing.B) {
	db, _ := openTemp(b)
	storetest.BenchmarkReleases(b, db)
}
