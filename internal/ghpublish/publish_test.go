package ghpublish_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/ghpublish"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

// workspace writes dist/ with an artifact, its SBOM, signature, provenance
// and receipt recorded in dist/manifest.json (as the stages leave it), and
// returns the workspace.
func workspace(t *testing.T, app string) string {
	t.Helper()
	dir := t.TempDir()
	m := artifact.NewManifest()
	add := func(name, content string, role artifact.Role, describes digest.SHA256, mediaType string) digest.SHA256 {
		path, _, _ := strings.Cut(name, "#")
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		d := digest.SHA256(sha256.Sum256([]byte(content)))
		m.Add(artifact.Record{Name: name, Path: path, Digest: d, Size: int64(len(content)), MediaType: mediaType, Role: role, Describes: describes})
		return d
	}
	d := add("dist/app.tar.gz", app, artifact.RoleArtifact, digest.SHA256{}, "application/gzip")
	add("dist/app.tar.gz.cdx.json", `{"bomFormat":"CycloneDX"}`, artifact.RoleSBOM, d, "application/vnd.cyclonedx+json")
	add("dist/app.tar.gz.sigstore.json", `{"mediaType":"bundle"}`, artifact.RoleSignature, d, "application/vnd.dev.sigstore.bundle.v0.3+json")
	add("dist/provenance.sigstore.json#dist/app.tar.gz", `{"mediaType":"provenance"}`, artifact.RoleProvenance, d, "application/vnd.dev.sigstore.bundle.v0.3+json")
	add("dist/provenance.sigstore.json#dist/app.tar.gz.cdx.json", `{"mediaType":"provenance"}`, artifact.RoleProvenance, d, "application/vnd.dev.sigstore.bundle.v0.3+json")
	add("dist/app.tar.gz.receipt", "receipt text\n", artifact.RoleReceipt, d, artifact.ReceiptMediaType)
	m.Add(artifact.Record{Name: "ghcr.io/o/app", URI: "ghcr.io/o/app@" + d.String(), Digest: d, Role: artifact.RoleRegistry, MediaType: "application/vnd.oci.image.manifest.v1+json"})
	if err := m.WriteFile(filepath.Join(dir, "dist/manifest.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func options(t *testing.T, gh *githubfake.Server, dir string) ghpublish.Options {
	c, err := ghclient.New(ghclient.Options{APIURL: gh.URL, Token: githubfake.Token, Retry: ghclient.Retry{Base: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return ghpublish.Options{Client: c, Repository: "octo/app", Tag: "v1.0.0", Commit: "0123456789abcdef0123456789abcdef01234567",
		Dir: dir, Manifest: "dist/manifest.json", Files: []string{"notes.txt"}}
}

func actions(res *ghpublish.Result) map[string]ghpublish.Action {
	out := map[string]ghpublish.Action{}
	for _, a := range res.Assets {
		out[a.Name] = a.Action
	}
	return out
}

// TestPublish: the first run creates the release and uploads every file
// the manifest records (not the registry record), the manifest and the
// extra file; a second run keeps them all (compared by content, the
// release's assets on two pages); a changed artifact is refused until
// replace, then replaced; the uploaded bytes are the files'.
func TestPublish(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	dir := workspace(t, "app v1")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := options(t, gh, dir)
	ctx := context.Background()
	res, err := ghpublish.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app.tar.gz", "app.tar.gz.cdx.json", "app.tar.gz.sigstore.json", "provenance.sigstore.json", "app.tar.gz.receipt", "manifest.json", "notes.txt"}
	got := actions(res)
	if !res.Created || len(got) != len(want) {
		t.Fatalf("created %t, assets %v; want %v uploaded", res.Created, got, want)
	}
	for _, n := range want {
		if got[n] != ghpublish.Uploaded {
			t.Errorf("%s: %q, want uploaded", n, got[n])
		}
	}
	gh.Lock()
	rel := gh.Releases[0]
	for _, a := range rel.Assets {
		path := "dist/" + a.Name
		if a.Name == "notes.txt" {
			path = a.Name
		}
		data, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || string(data) != string(a.Data) {
			t.Errorf("asset %s holds %q, the file %q (%v)", a.Name, a.Data, data, err)
		}
	}
	// Others' assets push ours to a second page.
	for i := range 120 {
		rel.Assets = append([]*githubfake.Asset{{ID: int64(i + 1), Name: fmt.Sprintf("other-%d", i), Data: []byte("x")}}, rel.Assets...)
	}
	gh.Requests = nil
	gh.Unlock()

	res, err = ghpublish.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for n, a := range actions(res) {
		if a != ghpublish.Kept {
			t.Errorf("second run: %s %s, want kept", n, a)
		}
	}
	gh.Lock()
	if slices.ContainsFunc(gh.Requests, func(r string) bool { return strings.HasPrefix(r, "POST ") || strings.HasPrefix(r, "DELETE ") }) {
		t.Errorf("second run changed the release: %q", gh.Requests)
	}
	gh.Unlock()

	changed := workspace(t, "app v1, rebuilt")
	if err := os.WriteFile(filepath.Join(changed, "notes.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Dir = changed
	if _, err := ghpublish.Publish(ctx, o); err == nil || !strings.Contains(err.Error(), `release asset "app.tar.gz" exists with other content`) {
		t.Fatalf("err = %v, want the changed artifact refused", err)
	}
	o.Replace = true
	res, err = ghpublish.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res); a["app.tar.gz"] != ghpublish.Replaced || a["notes.txt"] != ghpublish.Kept {
		t.Errorf("with replace: %v", a)
	}
	gh.Lock()
	defer gh.Unlock()
	for _, a := range gh.Releases[0].Assets {
		if a.Name == "app.tar.gz" && string(a.Data) != "app v1, rebuilt" {
			t.Errorf("app.tar.gz holds %q after replace", a.Data)
		}
	}
}

// TestPublishRefuses: what must not be published is refused before
// anything is uploaded, or deleted again.
func TestPublishRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, dir string, o *ghpublish.Options)
		want  string
	}{
		{"no commit for a new tag", func(t *testing.T, dir string, o *ghpublish.Options) { o.Commit = "" }, "GitHub would tag the default branch's head"},
		{"two files one name", func(t *testing.T, dir string, o *ghpublish.Options) {
			writeFile(t, dir, "other/app.tar.gz", "x")
			o.Files = []string{"other/app.tar.gz"}
		}, `"dist/app.tar.gz" and "other/app.tar.gz" would both be the release asset "app.tar.gz"`},
		{"file changed since recorded", func(t *testing.T, dir string, o *ghpublish.Options) {
			writeFile(t, dir, "dist/app.tar.gz", "tampered, and longer")
		}, "it changed since it was recorded"},
		{"same size, other bytes", func(t *testing.T, dir string, o *ghpublish.Options) {
			writeFile(t, dir, "dist/app.tar.gz", "app v2")
		}, "changed while it was uploaded"},
		{"manifest outside the workspace", func(t *testing.T, dir string, o *ghpublish.Options) { o.Manifest = "../manifest.json" }, "manifest"},
		{"missing extra file", func(t *testing.T, dir string, o *ghpublish.Options) { o.Files = []string{"nope.txt"} }, "nope.txt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t, "octo", "app")
			dir := workspace(t, "app v1")
			o := options(t, gh, dir)
			o.Files = nil
			tt.setup(t, dir, &o)
			_, err := ghpublish.Publish(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			gh.Lock()
			defer gh.Unlock()
			for _, rel := range gh.Releases {
				for _, a := range rel.Assets {
					if a.Name == "app.tar.gz" {
						t.Errorf("app.tar.gz was left on the release: %q", a.Data)
					}
				}
			}
		})
	}
}

// TestPublishRace: a release another run created between our look and our
// create (422 already_exists) is reused.
func TestPublishRace(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	gh.Lock()
	gh.Releases = append(gh.Releases, &githubfake.Release{ID: 7, Tag: "v1.0.0", Name: "v1.0.0"})
	gh.Unlock()
	gh.Fail("GET /repos/octo/app/releases/tags/v1.0.0", githubfake.Fault{Status: 404, Body: "not_found"})
	o := options(t, gh, workspace(t, "app"))
	o.Files = nil
	res, err := ghpublish.Publish(context.Background(), o)
	if err != nil || res.Created || res.ReleaseID != 7 {
		t.Fatalf("result %+v, %v; want release 7 reused", res, err)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
