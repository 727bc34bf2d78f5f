package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

// seedReleases records n releases, one a second from t0, alternating
// between two repositories; release i holds artifact sha256:a<i> and a
// signature sha256:s<i>, and releases 3 and 4 share artifact sha256:shared.
func seedReleases(t *testing.T, db *DB, t0 time.Time, n int) {
	t.Helper()
	for i := range n {
		art := fmt.Sprintf("sha256:a%02d", i)
		if i == 3 || i == 4 {
			art = "sha256:shared"
		}
		r := store.Release{ID: fmt.Sprintf("r-%02d", i), SourceRepository: []string{"https://github.com/o/one", "https://github.com/o/two"}[i%2],
			Uploader: "ci", ManifestDigest: fmt.Sprintf("sha256:m%02d", i), Created: t0.Add(time.Duration(i) * time.Second),
			Artifacts: []store.Artifact{{Digest: art, Size: 1, Name: "bin/app"}},
			Files: []store.File{
				{Role: "artifact", Name: "bin/app", Path: "bin/app", Digest: art, Size: 1, MediaType: "application/octet-stream"},
				{Role: "signature", Name: "bin/app.sigstore.json", Path: "bin/app.sigstore.json", Digest: fmt.Sprintf("sha256:s%02d", i), Size: 2, MediaType: "application/json", Describes: art},
			}}
		if err := db.CreateRelease(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(rs []store.Release) string {
	var out []string
	for _, r := range rs {
		out = append(out, strings.TrimPrefix(r.ID, "r-"))
	}
	return strings.Join(out, ",")
}

func TestReleasesQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	seedReleases(t, db, t0, 8)
	// Two releases in the same millisecond: ordered by id, descending.
	for _, id := range []string{"r-tb", "r-ta"} {
		if err := db.CreateRelease(ctx, store.Release{ID: id, SourceRepository: "https://github.com/o/three", ManifestDigest: "sha256:" + id,
			Created: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		q    store.ReleaseQuery
		want string
	}{
		{"all, newest first", store.ReleaseQuery{Limit: 1000}, "tb,ta,07,06,05,04,03,02,01,00"},
		{"limit", store.ReleaseQuery{Limit: 3}, "tb,ta,07"},
		{"repository", store.ReleaseQuery{Repository: "https://github.com/o/one", Limit: 100}, "06,04,02,00"},
		{"unknown repository", store.ReleaseQuery{Repository: "https://github.com/o/none", Limit: 100}, ""},
		{"artifact digest", store.ReleaseQuery{Digest: "sha256:shared", Limit: 100}, "04,03"},
		{"evidence digest", store.ReleaseQuery{Digest: "sha256:s05", Limit: 100}, "05"},
		{"manifest digest", store.ReleaseQuery{Digest: "sha256:m01", Limit: 100}, "01"},
		{"since inclusive", store.ReleaseQuery{Since: t0.Add(6 * time.Second), Limit: 100}, "tb,ta,07,06"},
		{"until exclusive", store.ReleaseQuery{Until: t0.Add(2 * time.Second), Limit: 100}, "01,00"},
		{"window and repository", store.ReleaseQuery{Repository: "https://github.com/o/two", Since: t0.Add(2 * time.Second), Until: t0.Add(6 * time.Second), Limit: 100}, "05,03"},
		{"after a cursor", store.ReleaseQuery{After: &store.Cursor{Created: t0.Add(5 * time.Second), ID: "r-05"}, Limit: 2}, "04,03"},
		{"after a cursor within one millisecond", store.ReleaseQuery{After: &store.Cursor{Created: t0.Add(time.Hour), ID: "r-tb"}, Limit: 2}, "ta,07"},
		{"digest and repository", store.ReleaseQuery{Digest: "sha256:shared", Repository: "https://github.com/o/two", Limit: 100}, "03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := db.Releases(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tt.want {
				t.Errorf("Releases = %s, want %s", ids(got), tt.want)
			}
		})
	}
	got, _ := db.Releases(ctx, store.ReleaseQuery{Digest: "sha256:s02", Limit: 1})
	if len(got) != 1 || len(got[0].Artifacts) != 1 || got[0].Artifacts[0].Digest != "sha256:a02" || got[0].Uploader != "ci" || !got[0].Created.Equal(t0.Add(2*time.Second)) {
		t.Errorf("listed release %+v, want r-02 with its artifact", got)
	}
	for _, bad := range []int{0, -1, store.MaxReleasesPage + 1} {
		if _, err := db.Releases(ctx, store.ReleaseQuery{Limit: bad}); err == nil {
			t.Errorf("limit %d accepted", bad)
		}
	}
}

// Paging with the cursor of each page's last release visits every release
// once, even when releases are admitted between pages.
func TestReleasesPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	seedReleases(t, db, t0, 7)
	var seen []string
	var after *store.Cursor
	for page := 0; ; page++ {
		got, err := db.Releases(ctx, store.ReleaseQuery{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, r := range got {
			seen = append(seen, r.ID)
		}
		c := store.CursorOf(got[len(got)-1])
		after = &c
		if page == 0 { // a newer release arrives while the client pages
			if err := db.CreateRelease(ctx, store.Release{ID: "r-new", ManifestDigest: "sha256:new", Created: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{"r-06", "r-05", "r-04", "r-03", "r-02", "r-01", "r-00"}
	if !slices.Equal(seen, want) {
		t.Errorf("pages visited %v, want %v", seen, want)
	}
}

func TestReleaseFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	seedReleases(t, db, time.UnixMilli(0).UTC(), 1)
	r, err := db.Release(ctx, "r-00")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.File{
		{Role: "artifact", Name: "bin/app", Path: "bin/app", Digest: "sha256:a00", Size: 1, MediaType: "application/octet-stream"},
		{Role: "signature", Name: "bin/app.sigstore.json", Path: "bin/app.sigstore.json", Digest: "sha256:s00", Size: 2, MediaType: "application/json", Describes: "sha256:a00"},
	}
	if !slices.Equal(r.Files, want) {
		t.Errorf("Files = %+v, want %+v", r.Files, want)
	}
	dup := store.Release{ID: "r-dup", ManifestDigest: "sha256:dup", Files: []store.File{want[0], want[0]}}
	if err := db.CreateRelease(ctx, dup); err == nil {
		t.Error("a release naming one file twice in a role was recorded")
	}
	if _, err := db.Release(ctx, "r-dup"); err == nil {
		t.Error("the refused release is visible")
	}
}

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
		where, args := releaseFilter(q)
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
