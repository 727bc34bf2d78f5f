package pull_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/pull"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/testutil/registry"
)

var appFiles = map[string]string{"dist/app": "the app\n", "dist/lib/libx.so": "a library\n"}

// TestPull pulls a release that the sign and push stages made into a real
// registry: every file is restored at its path, the manifest among them,
// and only after verification.
func TestPull(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	r := newRelease(t, addr, "team/app", appFiles)
	parent, out, res, err := pullInto(t, pull.Options{Ref: r.pinned, Verifier: verifier(r.policy)})
	if err != nil {
		t.Fatalf("Pull() = %v", err)
	}
	if !res.Report.Verified || res.PinnedRef != r.pinned || res.Manifest != filepath.Join(out, "dist", "manifest.json") {
		t.Errorf("result = %+v", res)
	}
	for name, content := range appFiles {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(name)))
		if err != nil || string(b) != content {
			t.Errorf("%s = %q, %v; want %q", name, b, err, content)
		}
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(name)+".sigstore.json")); err != nil {
			t.Errorf("the signature of %s was not restored: %v", name, err)
		}
	}
	// Exactly the files the release holds; nothing left beside the output.
	var got []string
	_ = filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(got)
	want := []string{"dist/app", "dist/app.sigstore.json", "dist/lib/libx.so", "dist/lib/libx.so.sigstore.json", "dist/manifest.json"}
	if !slices.Equal(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if e := entries(t, parent); !slices.Equal(e, []string{"out"}) {
		t.Errorf("the output's parent holds %q, want only out", e)
	}

	t.Run("into an empty directory", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "empty")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := pullInto(t, pull.Options{Ref: r.pinned, Verifier: verifier(r.policy), OutputDir: dir}); err != nil {
			t.Fatalf("Pull() = %v", err)
		}
	})
	t.Run("without verification", func(t *testing.T) {
		t.Parallel()
		_, out, res, err := pullInto(t, pull.Options{Ref: r.pinned, SkipVerify: true})
		if err != nil || res.Report != nil {
			t.Fatalf("Pull() = %+v, %v", res, err)
		}
		if _, err := os.Stat(filepath.Join(out, "dist", "app")); err != nil {
			t.Error(err)
		}
	})
}

// TestPullRefusals: what pull refuses, with its exit code, and that it
// leaves nothing behind: neither the output directory nor a temporary one.
func TestPullRefusals(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	r := newRelease(t, addr, "team/app", appFiles)
	tag := addr + "/team/app:v1"
	otherRelease := newRelease(t, addr, "team/other", map[string]string{"dist/app": "other\n"})
	tests := []struct {
		name string
		opts pull.Options
		code exitcode.Code
		want string
	}{
		{"a tag", pull.Options{Ref: tag, Verifier: verifier(r.policy)}, exitcode.Usage, "is a tag, which whoever can push may move"},
		{"signed by another key", pull.Options{Ref: r.pinned, Verifier: verifier(otherRelease.policy)}, exitcode.Failed, "the release failed verification"},
		{"no such release", pull.Options{Ref: addr + "/team/nope@sha256:" + strings.Repeat("ab", 32), SkipVerify: true}, exitcode.Usage, "no such release (404)"},
		{"not a release", pull.Options{Ref: pushArtifactOfType(t, addr), SkipVerify: true}, exitcode.Usage, "not a release that slipway push made"},
		{"a bad reference", pull.Options{Ref: "team/app@sha256:00", SkipVerify: true}, exitcode.Usage, `input "ref"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent, _, _, err := pullInto(t, tc.opts)
			if exitcode.Of(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Pull() = %v (exit %d), want exit %d and %q", err, exitcode.Of(err), tc.code, tc.want)
			}
			if e := entries(t, parent); len(e) != 0 {
				t.Errorf("the output's parent holds %q after a refused pull, want nothing", e)
			}
		})
	}
	t.Run("a tag, allowed", func(t *testing.T) {
		t.Parallel()
		_, _, res, err := pullInto(t, pull.Options{Ref: tag, AllowTag: true, Verifier: verifier(r.policy)})
		if err != nil {
			t.Fatalf("Pull() = %v", err)
		}
		if res.PinnedRef != r.pinned || res.Tag != tag {
			t.Errorf("pinned %q from tag %q, want %q from %q", res.PinnedRef, res.Tag, r.pinned, tag)
		}
	})
	t.Run("output directory not empty", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, _, err := pullInto(t, pull.Options{Ref: r.pinned, SkipVerify: true, OutputDir: dir})
		if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "is not empty") {
			t.Fatalf("Pull() = %v", err)
		}
		if e := entries(t, dir); !slices.Equal(e, []string{"keep"}) {
			t.Errorf("the directory holds %q", e)
		}
	})
}

// pushArtifactOfType pushes an OCI manifest that is not a slipway artifact.
func pushArtifactOfType(t *testing.T, addr string) string {
	t.Helper()
	tag, d := registry.PushRandomImage(t, addr, "team/image")
	return tag.Context().Digest(d.String()).String()
}

// TestPullHostileArtifacts pushes hand-made artifacts to the real registry,
// as a hostile registry (or anyone who can push) could serve them, and
// checks that pull refuses each before writing anything anywhere: not in
// the output directory, not beside it, not where a name points.
func TestPullHostileArtifacts(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	app := map[string]string{"dist/app": "the app\n"}
	man := manifestOf(t, app)
	tests := []struct {
		name   string
		layers []rawLayer
		code   exitcode.Code
		want   string
	}{
		{"dot-dot name", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named("../escaped", "x")}, exitcode.Failed, `is named "../escaped": the name climbs out of the output directory`},
		{"deep dot-dot", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named("dist/../../escaped", "x")}, exitcode.Failed, "not a clean path"},
		{"absolute name", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named("/tmp/escaped", "x")}, exitcode.Failed, "the name is an absolute path"},
		{"backslash", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named(`..\escaped`, "x")}, exitcode.Failed, "backslash"},
		{"empty name", []rawLayer{named("dist/manifest.json", man), {content: "x"}}, exitcode.Failed, "the name is empty"},
		{"duplicate name", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named("dist/app", "evil\n")}, exitcode.Failed, `are both named "dist/app"`},
		{"file where a directory is needed", []rawLayer{named("dist/manifest.json", man), named("dist", "x"), named("dist/app", "the app\n")}, exitcode.Failed, `is named "dist", which "dist/manifest.json" needs as a directory`},
		{"title disagrees", []rawLayer{named("dist/manifest.json", man), {content: "the app\n", annotations: map[string]string{push.AnnotationName: "dist/app", push.AnnotationTitle: "other"}}}, exitcode.Failed, `titled "other"`},
		{"digest annotation disagrees", []rawLayer{named("dist/manifest.json", man), {content: "the app\n", annotations: map[string]string{push.AnnotationName: "dist/app", push.AnnotationDigest: "sha256:" + strings.Repeat("0", 64)}}}, exitcode.Failed, "says its digest is"},
		{"a file the manifest does not list", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n"), named("dist/run.sh", "rm -rf ~\n")}, exitcode.Failed, `holds "dist/run.sh", which its build manifest "dist/manifest.json" does not list`},
		{"a listed file missing", []rawLayer{named("dist/manifest.json", man)}, exitcode.Failed, `names "dist/app", which the release does not hold`},
		{"a listed file with other content", []rawLayer{named("dist/manifest.json", man), named("dist/app", "evil\n")}, exitcode.Failed, `says "dist/app" is sha256:`},
		{"no manifest", []rawLayer{named("dist/app", "the app\n")}, exitcode.Usage, "holds no build manifest"},
		{"two manifests", []rawLayer{named("dist/manifest.json", man), named("other/manifest.json", man), named("dist/app", "the app\n")}, exitcode.Failed, "holds 2 build manifests"},
		{"descriptor smaller than the blob", []rawLayer{{content: man, size: 3, annotations: named("dist/manifest.json", "").annotations}, named("dist/app", "the app\n")}, exitcode.Failed, "long as served, not the 3 its descriptor gives"},
		{"descriptor larger than the blob", []rawLayer{{content: man, size: 1 << 20, annotations: named("dist/manifest.json", "").annotations}, named("dist/app", "the app\n")}, exitcode.Failed, "long as served, not the 1048576 its descriptor gives"},
		{"not a manifest", []rawLayer{named("dist/manifest.json", `{"not": "a manifest"}`), named("dist/app", "the app\n")}, exitcode.Failed, "the release's build manifest"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ref := pushArtifact(t, addr, "hostile/"+strings.ToLower(strings.ReplaceAll(strings.Fields(tc.name)[0], "-", ""))+string(rune('a'+i)), tc.layers)
			parent, _, _, err := pullInto(t, pull.Options{Ref: ref, SkipVerify: true})
			if exitcode.Of(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Pull() = %v (exit %d), want exit %d and %q", err, exitcode.Of(err), tc.code, tc.want)
			}
			if e := entries(t, parent); len(e) != 0 {
				t.Errorf("the output's parent holds %q, want nothing", e)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(parent), "escaped")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written outside the output directory: %v", err)
			}
		})
	}
}

// TestPullReleaseIndex pulls the files of a release index (an image and
// the files' artifact, as slipway push makes for a build with an image),
// and refuses a manifest that lists the image itself.
func TestPullReleaseIndex(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	app := map[string]string{"dist/app": "the app\n"}
	index := func(t *testing.T, man string) string {
		t.Helper()
		art := pushArtifact(t, addr, "team/indexed", []rawLayer{named("dist/manifest.json", man), named("dist/app", "the app\n")})
		artRef, err := name.NewDigest(art, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		artDesc, err := remote.Head(artRef)
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := registry.PushRandomImage(t, addr, "team/indexed")
		imgDesc, err := remote.Head(tag)
		if err != nil {
			t.Fatal(err)
		}
		imgDesc.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
		artDesc.ArtifactType, artDesc.Platform = push.ArtifactType, &v1.Platform{OS: "unknown", Architecture: "unknown"}
		return putManifest(t, artRef.Context(), v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex,
			Manifests: []v1.Descriptor{*imgDesc, *artDesc}})
	}

	_, out, _, err := pullInto(t, pull.Options{Ref: index(t, manifestOf(t, app)), SkipVerify: true})
	if err != nil {
		t.Fatalf("Pull() = %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "dist", "app")); err != nil || string(b) != "the app\n" {
		t.Errorf("dist/app = %q, %v", b, err)
	}

	withImage := strings.Replace(manifestOf(t, app), `"artifacts":[`, `"artifacts":[{"name":"dist/image","path":"dist/image/blobs/sha256/`+strings.Repeat("ab", 32)+
		`","digest":{"sha256":"`+strings.Repeat("ab", 32)+`"},"size":400,"mediaType":"application/vnd.oci.image.manifest.v1+json","role":"artifact"},`, 1)
	parent, _, _, err := pullInto(t, pull.Options{Ref: index(t, withImage), SkipVerify: true})
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "pull restores a release's files, not images") {
		t.Fatalf("Pull() = %v", err)
	}
	if e := entries(t, parent); len(e) != 0 {
		t.Errorf("the output's parent holds %q", e)
	}
}
