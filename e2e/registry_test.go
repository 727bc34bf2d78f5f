package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/digest"
)

// titleAnnotation names a file layer of an OCI artifact (as oras and slipway push write it).
const titleAnnotation = "org.opencontainers.image.title"

// pullArtifact downloads every layer of the OCI artifact at ref (pinned by digest) into dir as the file its
// title names, checking each blob's digest while writing it, and returns title → path.
func pullArtifact(t *testing.T, ref, dir string) map[string]string {
	t.Helper()
	img, err := remote.Image(mustRef(t, ref))
	if err != nil {
		t.Fatalf("fetching %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, l := range m.Layers {
		title := l.Annotations[titleAnnotation]
		if title == "" || title == "." || title == ".." || strings.ContainsAny(title, `/\`) {
			t.Fatalf("%s: layer %s has the title %q, not a file name", ref, l.Digest, title)
		}
		if _, dup := files[title]; dup {
			t.Fatalf("%s: two layers are titled %q", ref, title)
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layer.Compressed() // an artifact's layer is the file itself
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, title)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := digest.Copy(f, rc)
		rc.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("downloading %s: %v", title, err)
		}
		if d.String() != l.Digest.String() {
			t.Fatalf("%s: layer %s has the digest %s", ref, l.Digest, d)
		}
		files[title] = p
	}
	return files
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatalf("parsing %q: %v", s, err)
	}
	return ref
}

// tagDigest returns the digest the registry serves for ref.
func tagDigest(t *testing.T, ref string) string {
	t.Helper()
	desc, err := remote.Head(mustRef(t, ref))
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return desc.Digest.String()
}
