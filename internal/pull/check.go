package pull

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/regfile"
)

// The names of the build stage's files next to each other: the manifest
// and the subjects file.
const (
	manifestName = "manifest.json"
	subjectsName = "subjects.sha256"
)

// findManifest returns the release's build manifest: the layer whose media
// type is the manifest's, or else the one layer named manifest.json.
func findManifest(files []file) (file, error) {
	var typed, named []file
	for _, f := range files {
		switch {
		case f.mediaType == artifact.ManifestMediaType:
			typed = append(typed, f)
		case path.Base(f.name) == manifestName:
			named = append(named, f)
		}
	}
	if len(typed) == 0 {
		typed = named
	}
	switch len(typed) {
	case 1:
		return typed[0], nil
	case 0:
		return file{}, &notReleaseError{"the release holds no build manifest (" + manifestName + "): push the manifest with the files, as the release workflow does"}
	}
	return file{}, &contentError{fmt.Sprintf("the release holds %d build manifests (%q, %q); a release has one", len(typed), typed[0].name, typed[1].name)}
}

// plan is what the build manifest says the release's layers are.
type plan struct {
	manifest file
	// subjects is the subjects file's layer, checked against the manifest
	// once written; nil when the release has none.
	subjects *file
}

// check decides, before anything but the manifest is downloaded, that the
// release holds exactly what its build manifest m lists: every record with
// a path is a layer of that name, digest and size; every layer is such a
// record (SBOM attestations are attestation records), the manifest itself
// or its subjects file; every record other than an artifact describes one of
// its artifacts. Anything else could not be verified and is refused. An
// image the build wrote into an OCI layout is refused too: slipway push
// puts a build's image and its files in one release index only without
// the manifest, and pull restores files, not layouts.
func check(m *artifact.Manifest, mf file, rel *release) (*plan, error) {
	p := &plan{manifest: mf}
	layers := map[string]file{}
	for _, f := range rel.files {
		layers[f.name] = f
	}
	artifacts := map[string]bool{}
	for _, r := range m.ByRole(artifact.RoleArtifact) {
		artifacts[r.Digest.String()] = true
	}
	listed := map[string]bool{mf.name: true}
	for i, r := range m.Records {
		what := fmt.Sprintf("the manifest's record %d (%q)", i, r.Name)
		if r.Role != artifact.RoleArtifact && r.Role != artifact.RoleRegistry && !artifacts[r.Describes.String()] {
			return nil, &contentError{fmt.Sprintf("%s is a %s of %s, which is no artifact of the manifest", what, r.Role, r.Describes)}
		}
		if r.Path == "" {
			continue // in a registry only
		}
		if err := checkName(r.Path); err != nil {
			return nil, &contentError{fmt.Sprintf("%s has path %q: %v", what, r.Path, err)}
		}
		if dir, ok := layoutOf(r); ok {
			return nil, &notReleaseError{fmt.Sprintf("%s is the image %s in the OCI layout %q: pull restores a release's files, not images; pull the image by its digest with a registry client (skopeo copy, crane pull), and the files from a release pushed without it", what, r.Digest, dir)}
		}
		l, ok := layers[r.Path]
		switch {
		case !ok:
			return nil, &contentError{fmt.Sprintf("%s names %q, which the release does not hold", what, r.Path)}
		case l.digest != r.Digest || l.size != r.Size:
			return nil, &contentError{fmt.Sprintf("%s says %q is %s (%d bytes), but the release holds %s (%d bytes)", what, r.Path, r.Digest, r.Size, l.digest, l.size)}
		}
		listed[r.Path] = true
	}
	subjects := path.Join(path.Dir(mf.name), subjectsName)
	for _, f := range rel.files {
		switch {
		case listed[f.name]:
		case f.name == subjects:
			p.subjects = &f
		default:
			return nil, &contentError{fmt.Sprintf("the release holds %q, which its build manifest %q does not list: it could not be verified", f.name, mf.name)}
		}
	}
	return p, nil
}

// layoutOf reports whether r is an image the build wrote into an OCI image
// layout (its path is the manifest's blob, DIR/blobs/sha256/<hex>) and
// returns DIR.
func layoutOf(r artifact.Record) (string, bool) {
	switch types.MediaType(r.MediaType) {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	default:
		return "", false
	}
	dir, ok := strings.CutSuffix(r.Path, "/blobs/sha256/"+r.Digest.Hex())
	return dir, ok && dir != ""
}

// checkSubjects checks that the subjects file at p lists exactly the
// manifest's artifacts with their digests.
func checkSubjects(m *artifact.Manifest, p, name string) error {
	f, err := regfile.Open(p)
	if err != nil {
		return &fileError{err}
	}
	defer f.Close()
	got, err := artifact.ParseSubjects(f, name)
	if err != nil {
		return &contentError{fmt.Sprintf("the release's subjects file: %v", err)}
	}
	want := m.Subjects()
	key := func(s artifact.Subject) string { return s.Digest.Hex() + "  " + s.Name }
	var g, w []string
	for _, s := range got {
		g = append(g, key(s))
	}
	for _, s := range want {
		w = append(w, key(s))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		return &contentError{fmt.Sprintf("the release's subjects file %q does not list the build manifest's artifacts (it has %d, the manifest %d, or other names or digests)", name, len(g), len(w))}
	}
	return nil
}
