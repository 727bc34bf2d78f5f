package push

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"golang.org/x/sync/errgroup"

	"github.com/slipway/actions/internal/exitcode"
)

// layoutContent is one image or index of an OCI image layout.
type layoutContent struct {
	dir  string
	desc v1.Descriptor // as index.json lists it
	m    pushable      // the v1.Image or v1.ImageIndex
}

// openLayout opens the OCI image layout at dir and picks the manifest that
// sel names (a digest or a reference name), or the only one.
func openLayout(dir, sel string) (*layoutContent, error) {
	bad := func(format string, a ...any) error {
		return exitcode.WithFile(exitcode.BadInputf(format, a...), dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, bad("%q is not an OCI image layout (no oci-layout file: %v); give the directory that holds oci-layout, index.json and blobs/", dir, errors.Unwrap(err))
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, bad("%q is not an OCI image layout (no index.json: %v); give the directory that holds index.json", dir, errors.Unwrap(err))
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, bad("reading OCI image layout %q: %v", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, bad("parsing %q: %v; the file must be an OCI image index", filepath.Join(dir, "index.json"), err)
	}
	desc, err := selectManifest(dir, im.Manifests, sel)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(err), filepath.Join(dir, "index.json"))
	}
	var m pushable
	switch {
	case desc.MediaType.IsIndex():
		m, err = ii.ImageIndex(desc.Digest)
	case desc.MediaType.IsImage():
		m, err = ii.Image(desc.Digest)
	default:
		return nil, bad("manifest %s in %q has media type %q, which is neither an image nor an index; push an image or an index", desc.Digest, dir, desc.MediaType)
	}
	if err != nil {
		return nil, bad("reading manifest %s of layout %q: %v", desc.Digest, dir, err)
	}
	if got, err := m.Digest(); err != nil || got != desc.Digest {
		return nil, bad("manifest %s of layout %q is damaged (its blob hashes to %s, %v); write the layout again", desc.Digest, dir, got, err)
	}
	if err := checkBlobs(p, m); err != nil {
		return nil, err
	}
	return &layoutContent{dir: dir, desc: desc, m: m}, nil
}

// selectManifest picks the manifest sel names, or the only one.
func selectManifest(dir string, ms []v1.Descriptor, sel string) (v1.Descriptor, error) {
	if len(ms) == 0 {
		return v1.Descriptor{}, fmt.Errorf("OCI image layout %q lists no manifest in index.json; write an image into it first", dir)
	}
	if sel == "" {
		if len(ms) == 1 {
			return ms[0], nil
		}
		return v1.Descriptor{}, fmt.Errorf("OCI image layout %q lists %d manifests in index.json; choose one with %s%s@sha256:<digest> or %s%s@<ref name>, or write them into one image index: %s",
			dir, len(ms), LayoutPrefix, dir, LayoutPrefix, dir, listManifests(ms))
	}
	var found []v1.Descriptor
	for _, d := range ms {
		if d.Digest.String() == sel || d.Annotations[AnnotationRefName] == sel {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return v1.Descriptor{}, fmt.Errorf("OCI image layout %q has no manifest %q; it lists: %s", dir, sel, listManifests(ms))
	case 1:
		return found[0], nil
	}
	if found[0].Digest.String() == sel {
		return found[0], nil // the same manifest listed twice
	}
	return v1.Descriptor{}, fmt.Errorf("OCI image layout %q has %d manifests named %q; choose one by digest: %s", dir, len(found), sel, listManifests(found))
}

func listManifests(ms []v1.Descriptor) string {
	var parts []string
	for _, d := range ms {
		s := d.Digest.String() + " (" + string(d.MediaType)
		if n := d.Annotations[AnnotationRefName]; n != "" {
			s += ", " + AnnotationRefName + "=" + n
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, ", ")
}

// checkBlobs makes sure every blob the manifest needs is in the layout, so
// that an incomplete layout is reported as such before anything is pushed.
func checkBlobs(p layout.Path, m pushable) error {
	var need []v1.Descriptor
	err := walkManifests(m, func(child v1.Descriptor) { need = append(need, child) }, func(img v1.Image) error {
		mf, err := img.Manifest()
		if err != nil {
			return err
		}
		need = append(need, mf.Config)
		for _, l := range mf.Layers {
			if l.MediaType.IsDistributable() {
				need = append(need, l)
			}
		}
		return nil
	})
	if err != nil {
		return exitcode.WithFile(exitcode.BadInputf("reading OCI image layout %q: %v; write the layout again", string(p), err), string(p))
	}
	for _, d := range need {
		path := filepath.Join(string(p), "blobs", d.Digest.Algorithm, d.Digest.Hex)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return exitcode.WithFile(exitcode.BadInputf("OCI image layout %q is incomplete: blob %s (%s) is missing; write the layout again with every blob", string(p), d.Digest, d.MediaType), path)
		}
		if err != nil {
			return exitcode.Infraf("reading OCI image layout %q: %w", string(p), err)
		}
		if fi.Size() != d.Size {
			return exitcode.WithFile(exitcode.BadInputf("OCI image layout %q is damaged: blob %s has %d bytes, its descriptor says %d; write the layout again", string(p), d.Digest, fi.Size(), d.Size), path)
		}
	}
	return nil
}

func (c *layoutContent) manifest() (pushable, bool, error) { return c.m, true, nil }

func (c *layoutContent) hash(context.Context) error { return nil }

// upload puts every blob in the repository (see session.transfer: present
// ones are skipped, others mounted or uploaded), then the child manifests
// and the manifest itself by digest: the tag is set afterwards, by the
// caller.
func (c *layoutContent) upload(ctx context.Context, s *session) error {
	blobs, err := layoutBlobs(c.m)
	if err != nil {
		return fmt.Errorf("reading OCI image layout %q: %w", c.dir, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for _, l := range blobs {
		g.Go(func() error { return s.transfer(gctx, l, nil) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return s.push(ctx, s.repo.Digest(c.desc.Digest.String()), c.m)
}

// layoutBlobs lists the config and the distributable layers of the image,
// or of every image the index holds, each once.
func layoutBlobs(m pushable) ([]v1.Layer, error) {
	var out []v1.Layer
	seen := map[v1.Hash]bool{}
	add := func(l v1.Layer) error {
		h, err := l.Digest()
		if err != nil || seen[h] {
			return err
		}
		seen[h] = true
		out = append(out, l)
		return nil
	}
	err := walkManifests(m, nil, func(img v1.Image) error {
		cl, err := partial.ConfigLayer(img)
		if err != nil {
			return err
		}
		if err := add(cl); err != nil {
			return err
		}
		ls, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range ls {
			mt, err := l.MediaType()
			if err != nil {
				return err
			}
			if mt.IsDistributable() {
				if err := add(l); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// walkManifests calls image for m when it is an image, and for every image
// below m when it is an index (child, when not nil, for every manifest an
// index lists, images and indexes alike).
func walkManifests(m pushable, child func(v1.Descriptor), image func(v1.Image) error) error {
	switch m := m.(type) {
	case v1.Image:
		return image(m)
	case v1.ImageIndex:
		im, err := m.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range im.Manifests {
			if child != nil {
				child(d)
			}
			var sub pushable
			switch {
			case d.MediaType.IsIndex():
				sub, err = m.ImageIndex(d.Digest)
			case d.MediaType.IsImage():
				sub, err = m.Image(d.Digest)
			default:
				continue
			}
			if err != nil {
				return err
			}
			if err := walkManifests(sub, child, image); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *layoutContent) mountHints() []name.Repository { return nil }

func (c *layoutContent) pushedFiles() []File { return nil }
