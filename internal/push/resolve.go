package push

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/workspace"
)

// content is what a push uploads and tags: files as an artifact, or an
// image or index from an OCI image layout.
type content interface {
	// manifest returns the manifest to tag, and false while a digest it
	// needs is still unknown (before hash or upload).
	manifest() (pushable, bool, error)
	// hash learns every unknown digest by reading, without uploading.
	hash(ctx context.Context) error
	// upload puts everything the manifest refers to in the repository (not
	// the tag): blobs it has are skipped, others mounted or uploaded.
	upload(ctx context.Context, s *session) error
	// mountHints are repositories that hold some of the blobs (as the
	// digest cache remembers): besides the session's mount sources.
	mountHints() []name.Repository
	// pushedFiles lists the files of an artifact (nil for a layout).
	pushedFiles() []File
}

// pushable is a manifest that can be tagged: a v1.Image, a v1.ImageIndex or
// an artifact's raw manifest.
type pushable interface {
	remote.Taggable
	partial.Describable
}

var _ pushable = (v1.Image)(nil)

// resolveContent turns the subject (or, without one, the manifest's
// artifacts) into content. Every problem is bad input naming the file.
func (o *Options) resolveContent(man *artifact.Manifest, manPath string) (content, error) {
	subj := o.Subject
	if subj.IsZero() {
		files, image, err := manifestSubjects(o.root, man, manPath)
		if err != nil {
			return nil, err
		}
		if image.Layout != "" && len(files.Files) > 0 {
			return o.releaseContent(image, files, man, manPath)
		}
		subj = files
		if image.Layout != "" {
			subj = image
		}
	}
	if subj.Layout != "" {
		dir, err := o.resolve(fmt.Sprintf("subject %q", LayoutPrefix+subj.Layout), subj.Layout)
		if err != nil {
			return nil, err
		}
		return openLayout(dir, subj.Select)
	}
	return o.filesContent(subj.Files, man, manPath)
}

// filesContent is the files (paths or globs) as one artifact. Files the
// build manifest lists keep its name, digest and media type.
func (o *Options) filesContent(files []string, man *artifact.Manifest, manPath string) (*artifactContent, error) {
	known := map[string]artifact.Record{}
	if man != nil {
		for _, r := range man.Records {
			if r.Path == "" {
				continue
			}
			p, err := o.root.Resolve(filepath.FromSlash(r.Path))
			if err != nil {
				continue // never a subject: subjects are inside the workspace
			}
			if prev, ok := known[p]; !ok || prev.Role != artifact.RoleArtifact {
				known[p] = r
			}
		}
	}
	paths, err := o.filePaths(files)
	if err != nil {
		return nil, err
	}
	c := &artifactContent{jobs: o.Jobs}
	if man != nil {
		c.annotations = manifestAnnotations(man.Build)
	}
	for _, sp := range paths {
		p := sp.path
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return nil, exitcode.WithFile(exitcode.BadInputf("subject %q: %v; check the path (relative paths are relative to the workspace %q)", p, pathErr(err), o.Dir), p)
		case fi.IsDir():
			return nil, exitcode.WithFile(exitcode.BadInputf("subject %q is a directory; list the files in it (a glob such as %q works), or push an OCI image layout as %s%s", p, filepath.Join(p, "*"), LayoutPrefix, p), p)
		case !fi.Mode().IsRegular():
			return nil, exitcode.WithFile(exitcode.BadInputf("subject %q is not a regular file (%s); push regular files only", p, fi.Mode().Type()), p)
		}
		f := artifactFile{name: sp.name}
		var layer *fileLayer
		if r, ok := known[p]; ok {
			if r.Size != fi.Size() {
				return nil, exitcode.WithFile(exitcode.Failuref("file %q has %d bytes, but the build manifest %q records %d: it changed after the build; build again, or push it without the manifest", p, fi.Size(), manPath, r.Size), p)
			}
			mt := r.MediaType
			if mt == "" {
				mt = detectMediaType(p)
			}
			if r.Role == artifact.RoleArtifact {
				// Other records (provenance "<bundle>#<subject>") are named
				// for what they describe; the file keeps its own name.
				f.name = r.Name
			}
			layer = newFileLayer(p, mt, r.Size, r.Digest)
			layer.fromManifest = true
		} else if e, ok := o.DigestCache.Lookup(p); ok && e.Identity.Size == fi.Size() {
			layer = newFileLayer(p, detectMediaType(p), fi.Size(), e.Digest)
			layer.fromCache = true
			for _, r := range e.Repositories {
				if repo, err := registryref.ParseRepository(r); err == nil {
					f.mountHints = append(f.mountHints, repo)
				}
			}
		} else {
			layer = newFileLayer(p, detectMediaType(p), fi.Size(), digest.SHA256{})
		}
		layer.cache = o.DigestCache
		f.layer = layer
		f.title = titleOf(f.name)
		c.items = append(c.items, f)
	}
	if err := checkTitles(c.items); err != nil {
		return nil, exitcode.BadInput(err)
	}
	return c, nil
}

// manifestSubjects splits what a build manifest lists into its artifact
// files and its image (an OCI manifest in an image layout, at most one).
func manifestSubjects(root *workspace.Root, man *artifact.Manifest, manPath string) (files, image Subject, err error) {
	if man == nil {
		return files, image, exitcode.BadInputf("nothing to push: give subject (files, or %sDIR), or manifest (the build's manifest.json, whose artifacts are pushed)", LayoutPrefix)
	}
	var images []string
	for _, r := range man.ByRole(artifact.RoleArtifact) {
		if r.Path == "" {
			continue // only in a registry, such as an earlier push
		}
		if _, err := root.Resolve(filepath.FromSlash(r.Path)); err != nil {
			return files, image, exitcode.WithFile(exitcode.BadInputf("build manifest %q: artifact %q has path %q: %v; a manifest may only name files of the workspace: build again, or fix the manifest", manPath, r.Name, r.Path, err), manPath)
		}
		if dir, ok := imageLayout(r); ok {
			images = append(images, r.Name)
			image = Subject{Layout: filepath.FromSlash(dir), Select: r.Digest.String()}
			continue
		}
		files.Files = append(files.Files, filepath.FromSlash(r.Path))
	}
	switch {
	case len(images) > 1:
		return files, image, exitcode.WithFile(exitcode.BadInputf("build manifest %q lists %d images (%s); push one per tag with subject %sDIR", manPath, len(images), strings.Join(images, ", "), LayoutPrefix), manPath)
	case len(images) == 0 && len(files.Files) == 0:
		return files, image, exitcode.WithFile(exitcode.BadInputf("build manifest %q lists no artifact file; build first, or give subject", manPath), manPath)
	}
	return files, image, nil
}

// imageLayout reports whether r is an image the build wrote into an OCI
// image layout (its Path is the manifest blob, blobs/sha256/<hex>, in the
// layout) and returns the layout directory.
func imageLayout(r artifact.Record) (string, bool) {
	switch types.MediaType(r.MediaType) {
	case types.OCIManifestSchema1, types.OCIImageIndex, types.DockerManifestSchema2, types.DockerManifestList:
	default:
		return "", false
	}
	blob := "/blobs/sha256/" + r.Digest.Hex()
	dir, ok := strings.CutSuffix(r.Path, blob)
	return dir, ok && dir != ""
}

// detectMediaType names a file's media type as the build stage does, from
// its name and first bytes (read here, at most mediatype.HeadSize of them;
// the upload reads the file once more, in full).
func detectMediaType(path string) string {
	head := make([]byte, mediatype.HeadSize)
	f, err := regfile.Open(path)
	if err != nil {
		return mediatype.Detect(path, nil) // the upload reports the error
	}
	defer f.Close()
	n, _ := io.ReadFull(f, head)
	return mediatype.Detect(path, head[:n])
}

// subjectPath is a file subject: where it is read (every symbolic link
// resolved, inside the workspace) and its name (the path as given, relative
// to the workspace, slash-separated).
type subjectPath struct{ path, name string }

// filePaths expands file subjects (globs allowed) into paths inside the
// workspace, without duplicates. A subject that leads outside the workspace
// (a "..", an absolute path elsewhere, a symbolic link out, a glob match
// that is one) is bad input.
func (o *Options) filePaths(files []string) ([]subjectPath, error) {
	var paths []subjectPath
	seen := map[string]bool{}
	// add resolves p (the subject s, or a match of it); its name is p as
	// written, relative to the workspace, or where it leads.
	add := func(s, p string) error {
		resolved, err := o.resolve(fmt.Sprintf("subject %q", s), p)
		if err != nil {
			return err
		}
		if seen[resolved] {
			return nil
		}
		seen[resolved] = true
		lexical := p
		if !filepath.IsAbs(p) {
			lexical = filepath.Join(o.Dir, p)
		}
		name, ok := o.root.Rel(lexical)
		if !ok {
			name, _ = o.root.Rel(resolved)
		}
		paths = append(paths, subjectPath{path: resolved, name: name})
		return nil
	}
	for _, s := range files {
		if !strings.ContainsAny(s, "*?[") {
			if err := add(s, s); err != nil {
				return nil, err
			}
			continue
		}
		pattern := s
		if !filepath.IsAbs(s) {
			pattern = filepath.Join(o.Dir, s)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, exitcode.BadInputf("subject %q is not a valid glob: %v; escape or remove the special characters", s, err)
		}
		var n int
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
				if err := add(s, m); err != nil {
					return nil, err
				}
				n++
			}
		}
		if n == 0 {
			return nil, exitcode.BadInputf("subject %q matches no file (in the workspace %q); check the pattern, or build first", s, o.Dir)
		}
	}
	return paths, nil
}

// resolve returns where p (relative to the workspace, or absolute) leads,
// every symbolic link followed; a path that leads outside the workspace is
// bad input, what names the input.
func (o *Options) resolve(what, p string) (string, error) {
	r, err := o.root.Resolve(p)
	if err != nil {
		return "", exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%s: %w", what, err)), p)
	}
	return r, nil
}

func pathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
