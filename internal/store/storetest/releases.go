package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/store"
)

func release(id, manifest string, artifacts ...store.Artifact) store.Release {
	return store.Release{ID: id, SourceRepository: "github.com/o/r", Uploader: "token:ci/abc", ManifestDigest: manifest,
		Created: at(5), Artifacts: artifacts}
}

func testReleaseRoundTrip(t *testing.T, s store.Store) {
	long := strings.Repeat("deep/", 200) + "name" // longer than any index key
	full := release("r-full", "sha256:aa",
		store.Artifact{Digest: "sha256:cc", Size: 4, Name: "bin/b"},
		store.Artifact{Digest: "sha256:bb", Size: 3, Name: "bin/a"},
		store.Artifact{Digest: "sha256:dd", Size: 1 << 40, Name: long})
	full.LogIndex, full.LogEntry, full.Receipt = 1<<40+7, []byte(`{"kind":"release-admitted"}`+"\x00\xff"), []byte("c2sp.org/tlog-proof@v1\n")
	full.Checks = []string{"artifact: ok", "provenance: ok ✓"}
	full.Files = []store.File{ // in manifest order, which is not by name
		{Role: "artifact", Name: "bin/b", Path: "bin/b", Digest: "sha256:cc", Size: 4, MediaType: "application/octet-stream"},
		{Role: "provenance", Name: "bin/b.intoto.json#bin/b", Path: "bin/b.intoto.json", Digest: "sha256:ab", Size: 7, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Describes: "sha256:cc"},
		{Role: "provenance", Name: "bin/b.intoto.json#bin/a", Path: "bin/b.intoto.json", Digest: "sha256:ab", Size: 7, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Describes: "sha256:bb"},
		{Role: "artifact", Name: "bin/a", Path: "bin/a", Digest: "sha256:bb", Size: 3, MediaType: "application/octet-stream"},
	}
	bare := release("r-bare", "sha256:ee")
	for _, r := range []store.Release{full, bare} {
		t.Run(r.ID, func(t *testing.T) {
			if err := s.CreateRelease(ctx(), r); err != nil {
				t.Fatal(err)
			}
			want := r
			want.Artifacts = sortedByName(r.Artifacts)
			for name, get := range map[string]func() (store.Release, error){
				"Release":           func() (store.Release, error) { return s.Release(ctx(), r.ID) },
				"ReleaseByManifest": func() (store.Release, error) { return s.ReleaseByManifest(ctx(), r.ManifestDigest) },
			} {
				got, err := get()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !sameRelease(got, want) {
					t.Errorf("%s read back\n%+v\nwant\n%+v", name, got, want)
				}
			}
		})
	}
	for name, get := range map[string]func() (store.Release, error){
		"Release":           func() (store.Release, error) { return s.Release(ctx(), "r-none") },
		"ReleaseByManifest": func() (store.Release, error) { return s.ReleaseByManifest(ctx(), "sha256:ff") },
	} {
		if _, err := get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a missing release: %v, want ErrNotFound", name, err)
		}
	}
}

// sameRelease compares releases with nil and empty slices alike (a store may give back either).
func sameRelease(a, b store.Release) bool {
	norm := func(r store.Release) store.Release {
		if len(r.Artifacts) == 0 {
			r.Artifacts = nil
		}
		if len(r.LogEntry) == 0 {
			r.LogEntry = nil
		}
		if len(r.Receipt) == 0 {
			r.Receipt = nil
		}
		if len(r.Checks) == 0 {
			r.Checks = nil
		}
		if len(r.Files) == 0 {
			r.Files = nil
		}
		return r
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func sortedByName(as []store.Artifact) []store.Artifact {
	out := append([]store.Artifact(nil), as...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Name < out[i].Name {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func testReleaseExists(t *testing.T, s store.Store) {
	if err := s.CreateRelease(ctx(), release("r1", "sha256:aa", store.Artifact{Digest: "sha256:bb", Size: 1, Name: "a"})); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    store.Release
	}{
		{"same manifest, another ID", release("r2", "sha256:aa")},
		{"same ID, another manifest", release("r1", "sha256:cc")},
		{"both the same", release("r1", "sha256:aa")},
	} {
		if err := s.CreateRelease(ctx(), c.r); !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: %v, want ErrExists", c.name, err)
		}
	}
	if _, err := s.Release(ctx(), "r2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused duplicate is visible: %v", err)
	}
	if got, err := s.Release(ctx(), "r1"); err != nil || got.ManifestDigest != "sha256:aa" || len(got.Artifacts) != 1 {
		t.Errorf("the first release after refused duplicates: %+v, %v", got, err)
	}
}

// The manifest recorded with a release reads back byte for byte (not through Release, which leaves it out);
// a release recorded without one, or no release, is ErrNotFound; a refused duplicate does not replace it.
func testReleaseManifest(t *testing.T, s store.Store) {
	big := make([]byte, 4<<20) // the server's limit
	for i := range big {
		big[i] = byte(i * 7)
	}
	kept := release("r-kept", "sha256:aa")
	kept.Manifest = []byte(`{"records":[{"name":"a"}],"version":1}` + "\x00\xff")
	large := release("r-large", "sha256:bb")
	large.Manifest = big
	for _, r := range []store.Release{kept, large, release("r-none", "sha256:cc")} {
		if err := s.CreateRelease(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	again := release("r-other", "sha256:aa")
	again.Manifest = []byte("another")
	if err := s.CreateRelease(ctx(), again); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a duplicate manifest digest: %v, want ErrExists", err)
	}
	for _, r := range []store.Release{kept, large} {
		got, err := s.ReleaseManifest(ctx(), r.ID)
		if err != nil || string(got) != string(r.Manifest) {
			t.Errorf("ReleaseManifest(%q) = %d bytes, %v; want the %d bytes recorded", r.ID, len(got), err, len(r.Manifest))
		}
		rel, err := s.Release(ctx(), r.ID)
		if err != nil || rel.Manifest != nil {
			t.Errorf("Release(%q) carries the manifest (%d bytes, %v); only ReleaseManifest reads it", r.ID, len(rel.Manifest), err)
		}
	}
	for _, id := range []string{"r-none", "r-other", "r-missing"} {
		if got, err := s.ReleaseManifest(ctx(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ReleaseManifest(%q) = %q, %v; want ErrNotFound", id, got, err)
		}
	}
}

// A release that cannot be recorded whole leaves nothing behind: not the release, not one artifact.
func testReleaseAtomic(t *testing.T, s store.Store) {
	bad := release("r3", "sha256:dd", store.Artifact{Digest: "sha256:11", Size: 1, Name: "x"}, store.Artifact{Digest: "sha256:22", Size: 2, Name: "x"})
	if err := s.CreateRelease(ctx(), bad); err == nil {
		t.Fatal("a release naming one artifact twice was recorded")
	}
	if _, err := s.Release(ctx(), "r3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused release is visible by ID: %v", err)
	}
	if _, err := s.ReleaseByManifest(ctx(), "sha256:dd"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused release is visible by manifest: %v", err)
	}
	if _, err := s.ArtifactByDigest(ctx(), "sha256:11"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an artifact of the refused release is visible: %v", err)
	}
	good := bad
	good.Artifacts = good.Artifacts[:1]
	if err := s.CreateRelease(ctx(), good); err != nil {
		t.Errorf("the same release, corrected, after the refusal: %v", err)
	}
}

func testArtifactByDigest(t *testing.T, s store.Store) {
	shared := "sha256:" + strings.Repeat("ab", 32)
	for _, r := range []store.Release{
		release("r-b", "sha256:m2", store.Artifact{Digest: shared, Size: 9, Name: "later/name"}),
		release("r-a", "sha256:m1", store.Artifact{Digest: shared, Size: 9, Name: "tool"}, store.Artifact{Digest: "sha256:cc", Size: 4, Name: "bin/b"}),
	} {
		if err := s.CreateRelease(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		digest string
		want   store.Artifact
		err    error
	}{
		{"sha256:cc", store.Artifact{Digest: "sha256:cc", Size: 4, Name: "bin/b"}, nil},
		{shared, store.Artifact{Digest: shared, Size: 9}, nil}, // one of the two records (Name checked below)
		{"sha256:CC", store.Artifact{}, store.ErrNotFound},
		{"sha256:ff", store.Artifact{}, store.ErrNotFound},
	} {
		got, err := s.ArtifactByDigest(ctx(), c.digest)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ArtifactByDigest(%q) = %v, want %v", c.digest, err, c.err)
			}
			continue
		}
		if c.digest == shared && (got.Name == "tool" || got.Name == "later/name") {
			got.Name = ""
		}
		if err != nil || got != c.want {
			t.Errorf("ArtifactByDigest(%q) = %+v, %v; want %+v", c.digest, got, err, c.want)
		}
	}
}

// Replicas admitting one manifest at the same moment: exactly one release, the others told it exists.
func testConcurrentSameManifest(t *testing.T, s store.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateRelease(ctx(), release(fmt.Sprintf("r-%02d", i), "sha256:same",
				store.Artifact{Digest: "sha256:a", Size: 1, Name: "a"}, store.Artifact{Digest: "sha256:b", Size: 2, Name: "b"}))
		}()
	}
	wg.Wait()
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrExists):
			t.Errorf("writer %d: %v, want nil or ErrExists", i, err)
		}
	}
	if created != 1 {
		t.Errorf("%d writers created the release, want 1", created)
	}
	got, err := s.ReleaseByManifest(ctx(), "sha256:same")
	if err != nil || len(got.Artifacts) != 2 {
		t.Errorf("the release: %+v, %v", got, err)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	c, cancel := context.WithCancel(ctx())
	cancel()
	for name, err := range map[string]error{
		"CreateToken":   s.CreateToken(c, store.Token{ID: "x", Name: "n", Hash: "h", Created: at(0)}),
		"CreateRelease": s.CreateRelease(c, release("r-x", "sha256:x")),
	} {
		if err == nil {
			t.Errorf("%s with a canceled context succeeded", name)
		}
	}
	if _, err := s.Token(ctx(), "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token created under a canceled context is visible: %v", err)
	}
	if _, err := s.Release(ctx(), "r-x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a release created under a canceled context is visible: %v", err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(ctx()); err != nil {
		t.Error(err)
	}
}
