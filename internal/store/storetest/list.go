package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

// seedReleases records n releases, one a second from at(0), alternating
// between two repositories; release i holds artifact sha256:a<i> and a
// signature sha256:s<i>, and releases 3 and 4 share artifact sha256:shared.
func seedReleases(t *testing.T, s store.Store, n int) {
	t.Helper()
	for i := range n {
		art := fmt.Sprintf("sha256:a%02d", i)
		if i == 3 || i == 4 {
			art = "sha256:shared"
		}
		r := store.Release{ID: fmt.Sprintf("r-%02d", i), SourceRepository: []string{"https://github.com/o/one", "https://github.com/o/two"}[i%2],
			Uploader: "ci", ManifestDigest: fmt.Sprintf("sha256:m%02d", i), Created: at(int64(i) * 1000),
			Artifacts: []store.Artifact{{Digest: art, Size: 1, Name: "bin/app"}},
			Files: []store.File{
				{Role: "artifact", Name: "bin/app", Path: "bin/app", Digest: art, Size: 1, MediaType: "application/octet-stream"},
				{Role: "signature", Name: "bin/app.sigstore.json", Path: "bin/app.sigstore.json", Digest: fmt.Sprintf("sha256:s%02d", i), Size: 2, MediaType: "application/json", Describes: art},
			}}
		if err := s.CreateRelease(ctx(), r); err != nil {
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

func testReleasesQuery(t *testing.T, s store.Store) {
	seedReleases(t, s, 8)
	// Two releases in the same millisecond: ordered by ID, descending.
	for _, id := range []string{"r-tb", "r-ta"} {
		if err := s.CreateRelease(ctx(), store.Release{ID: id, SourceRepository: "https://github.com/o/three", ManifestDigest: "sha256:" + id, Created: at(3_600_000)}); err != nil {
			t.Fatal(err)
		}
	}
	sec := func(n int64) time.Time { return at(n * 1000) }
	for _, tt := range []struct {
		name string
		q    store.ReleaseQuery
		want string
	}{
		{"all, newest first", store.ReleaseQuery{Limit: 1000}, "tb,ta,07,06,05,04,03,02,01,00"},
		{"limit", store.ReleaseQuery{Limit: 3}, "tb,ta,07"},
		{"repository", store.ReleaseQuery{Repository: "https://github.com/o/one", Limit: 100}, "06,04,02,00"},
		{"repository is exact", store.ReleaseQuery{Repository: "https://github.com/o/ONE", Limit: 100}, ""},
		{"unknown repository", store.ReleaseQuery{Repository: "https://github.com/o/none", Limit: 100}, ""},
		{"artifact digest", store.ReleaseQuery{Digest: "sha256:shared", Limit: 100}, "04,03"},
		{"evidence digest", store.ReleaseQuery{Digest: "sha256:s05", Limit: 100}, "05"},
		{"manifest digest", store.ReleaseQuery{Digest: "sha256:m01", Limit: 100}, "01"},
		{"since inclusive", store.ReleaseQuery{Since: sec(6), Limit: 100}, "tb,ta,07,06"},
		{"until exclusive", store.ReleaseQuery{Until: sec(2), Limit: 100}, "01,00"},
		{"window and repository", store.ReleaseQuery{Repository: "https://github.com/o/two", Since: sec(2), Until: sec(6), Limit: 100}, "05,03"},
		{"after a cursor", store.ReleaseQuery{After: &store.Cursor{Created: sec(5), ID: "r-05"}, Limit: 2}, "04,03"},
		{"after a cursor within one millisecond", store.ReleaseQuery{After: &store.Cursor{Created: at(3_600_000), ID: "r-tb"}, Limit: 2}, "ta,07"},
		{"digest and repository", store.ReleaseQuery{Digest: "sha256:shared", Repository: "https://github.com/o/two", Limit: 100}, "03"},
	} {
		got, err := s.Releases(ctx(), tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ids(got) != tt.want {
			t.Errorf("%s: Releases = %s, want %s", tt.name, ids(got), tt.want)
		}
	}
	got, err := s.Releases(ctx(), store.ReleaseQuery{Digest: "sha256:s02", Limit: 1})
	if err != nil || len(got) != 1 || len(got[0].Artifacts) != 1 || got[0].Artifacts[0].Digest != "sha256:a02" || got[0].Uploader != "ci" || !got[0].Created.Equal(sec(2)) {
		t.Errorf("listed release %+v, %v; want r-02 with its artifact", got, err)
	}
	for _, bad := range []int{0, -1, store.MaxReleasesPage + 1} {
		if _, err := s.Releases(ctx(), store.ReleaseQuery{Limit: bad}); err == nil {
			t.Errorf("limit %d accepted", bad)
		}
	}
}

// Paging with the cursor of each page's last release visits every release
// once, even when releases are admitted between pages.
func testReleasesPaging(t *testing.T, s store.Store) {
	seedReleases(t, s, 7)
	var seen []string
	var after *store.Cursor
	for page := 0; ; page++ {
		got, err := s.Releases(ctx(), store.ReleaseQuery{After: after, Limit: 3})
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
			if err := s.CreateRelease(ctx(), store.Release{ID: "r-new", ManifestDigest: "sha256:new", Created: at(3_600_000)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := []string{"r-06", "r-05", "r-04", "r-03", "r-02", "r-01", "r-00"}; !slices.Equal(seen, want) {
		t.Errorf("pages visited %v, want %v", seen, want)
	}
}

// A release whose files cannot all be recorded leaves nothing behind.
func testReleaseFilesAtomic(t *testing.T, s store.Store) {
	f := store.File{Role: "artifact", Name: "bin/app", Path: "bin/app", Digest: "sha256:a", Size: 1, MediaType: "application/octet-stream"}
	dup := store.Release{ID: "r-dup", ManifestDigest: "sha256:dup", Created: at(0), Files: []store.File{f, f}}
	if err := s.CreateRelease(ctx(), dup); err == nil {
		t.Error("a release naming one file twice in a role was recorded")
	}
	if _, err := s.Release(ctx(), "r-dup"); err == nil {
		t.Error("the refused release is visible")
	}
	if got, err := s.Releases(ctx(), store.ReleaseQuery{Digest: "sha256:a", Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("a file of the refused release is found: %v, %v", ids(got), err)
	}
}
