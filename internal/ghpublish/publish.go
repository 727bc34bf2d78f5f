package ghpublish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/workspace"
)

// Options say what to publish where.
type Options struct {
	Client     *ghclient.Client
	Repository string // OWNER/NAME
	// Tag names the release; Commit is the commit a tag that does not
	// exist yet is created at (required then: GitHub would otherwise tag
	// the default branch's head).
	Tag, Commit string
	// Name and Notes are the title and body of a release created here; an
	// existing release keeps its own.
	Name, Notes string
	// Dir is the workspace the manifest's paths are relative to.
	Dir string
	// Manifest is the build manifest (relative to Dir or absolute).
	Manifest string
	// Files are more files to attach (relative to Dir).
	Files []string
	// Replace allows replacing an asset of the same name and other content.
	Replace bool
	// HTTP downloads existing assets to compare them (nil: http.DefaultClient).
	HTTP *http.Client
	Log  *slog.Logger
}

// Action is what happened to one asset.
type Action string

// The actions on assets.
const (
	Uploaded Action = "uploaded"
	Kept     Action = "kept"     // same name, same content already there
	Replaced Action = "replaced" // same name, other content, Replace set
)

// Asset is one file's outcome.
type Asset struct {
	Name   string // the asset's name on GitHub
	Path   string // the file, relative to the workspace
	Role   artifact.Role
	Digest digest.SHA256
	Action Action
	URL    string
}

// Result is the release and what happened to each file.
type Result struct {
	ReleaseID int64
	URL       string
	Created   bool
	Assets    []Asset
}

// file is one file to attach.
type file struct {
	name, path, abs, mediaType, label string
	role                              artifact.Role
	size                              int64
	digest                            digest.SHA256 // zero until known
}

// Publish creates or reuses the release of o.Tag and attaches the files.
func Publish(ctx context.Context, o Options) (*Result, error) {
	owner, repo, err := ghclient.SplitRepository(o.Repository)
	if err != nil {
		return nil, err
	}
	if o.Tag == "" {
		return nil, errors.New("no tag: name the release's tag (v1.2.3)")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	files, err := collect(o)
	if err != nil {
		return nil, err
	}
	p := &publisher{o: o, c: o.Client, owner: owner, repo: repo}
	rel, created, err := p.release(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{ReleaseID: rel.GetID(), URL: rel.GetHTMLURL(), Created: created}
	existing, err := p.assets(ctx, rel.GetID())
	if err != nil {
		return res, err
	}
	for _, f := range files {
		a, err := p.attach(ctx, rel.GetID(), f, existing[f.name])
		if err != nil {
			return res, err
		}
		res.Assets = append(res.Assets, a)
	}
	return res, nil
}

// collect lists the manifest's files, the manifest and the extra files,
// with the names they get as assets; two files with one name are an error.
func collect(o Options) ([]*file, error) {
	root, err := workspace.New(o.Dir)
	if err != nil {
		return nil, err
	}
	mpath, err := root.Resolve(o.Manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest %q: %w", o.Manifest, err)
	}
	m, err := artifact.ReadManifest(mpath)
	if err != nil {
		return nil, err
	}
	var files []*file
	byPath := map[string]*file{}
	for _, r := range m.Records {
		if r.Path == "" || r.MediaType == mediatype.OCIManifest || r.MediaType == mediatype.OCIIndex {
			continue // a registry location, or an image (OCI layout): not a file to attach
		}
		if f, ok := byPath[r.Path]; ok {
			// One bundle recorded once per subject it describes.
			if f.digest != r.Digest {
				return nil, fmt.Errorf("manifest %q: records of %q disagree on its digest (%s, %s); run the stage that wrote it again", o.Manifest, r.Path, f.digest, r.Digest)
			}
			continue
		}
		abs, err := root.Resolve(r.Path)
		if err != nil {
			return nil, fmt.Errorf("manifest %q: record %q: %w", o.Manifest, r.Name, err)
		}
		f := &file{path: r.Path, abs: abs, mediaType: r.MediaType, role: r.Role, size: r.Size, digest: r.Digest,
			label: fmt.Sprintf("%s: %s", r.Role, r.Name)}
		byPath[r.Path] = f
		files = append(files, f)
	}
	files = append(files, &file{path: o.Manifest, abs: mpath, mediaType: artifact.ManifestMediaType, role: "manifest", size: -1, label: "the build manifest"})
	for _, p := range o.Files {
		abs, err := root.Resolve(p)
		if err != nil {
			return nil, fmt.Errorf("file %q: %w", p, err)
		}
		files = append(files, &file{path: p, abs: abs, mediaType: "application/octet-stream", size: -1, label: filepath.Base(p)})
	}
	// Every file is checked before anything is sent: what is recorded has
	// its recorded size, what is not is hashed now.
	for _, f := range files {
		if f.digest.IsZero() {
			if f.digest, f.size, err = hashFile(f.abs); err != nil {
				return nil, err
			}
			continue
		}
		fh, err := regfile.Open(f.abs)
		if err != nil {
			return nil, err
		}
		fi, err := fh.Stat()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", f.path, err)
		}
		if fi.Size() != f.size {
			return nil, fmt.Errorf("%q is %d bytes, its record says %d: it changed since it was recorded; run the stage that wrote it again", f.path, fi.Size(), f.size)
		}
	}
	seen := map[string]string{}
	for _, f := range files {
		f.name = AssetName(filepath.Base(f.path))
		if f.mediaType == "" {
			f.mediaType = "application/octet-stream"
		}
		if prev, ok := seen[f.name]; ok {
			if prev == f.path {
				return nil, fmt.Errorf("%q is listed twice (in the manifest and files?); list it once", f.path)
			}
			return nil, fmt.Errorf("%q and %q would both be the release asset %q (assets have no directories); rename one of them", prev, f.path, f.name)
		}
		seen[f.name] = f.path
	}
	return files, nil
}

var unsafeName = lazyregexp.New(`[^A-Za-z0-9._+@-]`)

// AssetName is the name GitHub gives an asset uploaded as base: every
// character outside letters, digits and ._+@- becomes a period, and
// leading and trailing periods go.
func AssetName(base string) string {
	n := strings.Trim(unsafeName.ReplaceAllString(base, "."), ".")
	if n == "" {
		return "asset"
	}
	return n
}

type publisher struct {
	o           Options
	c           *ghclient.Client
	owner, repo string
}

// release finds the release of the tag or creates it.
func (p *publisher) release(ctx context.Context) (*github.RepositoryRelease, bool, error) {
	get := func() (*github.RepositoryRelease, error) {
		var rel *github.RepositoryRelease
		err := p.c.Do(ctx, fmt.Sprintf("finding the release of tag %q", p.o.Tag), true, func(ctx context.Context) (*github.Response, error) {
			var resp *github.Response
			var err error
			rel, resp, err = p.c.Repositories.GetReleaseByTag(ctx, p.owner, p.repo, p.o.Tag)
			return resp, err
		})
		return rel, err
	}
	rel, err := get()
	if err == nil {
		return rel, false, nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return nil, false, err
	}
	if p.o.Commit == "" {
		return nil, false, fmt.Errorf("tag %q has no release and no commit was given: GitHub would tag the default branch's head; give the commit (GITHUB_SHA in a workflow)", p.o.Tag)
	}
	name := p.o.Name
	if name == "" {
		name = p.o.Tag
	}
	req := &github.RepositoryRelease{TagName: &p.o.Tag, TargetCommitish: &p.o.Commit, Name: &name, Body: &p.o.Notes}
	err = p.c.Do(ctx, fmt.Sprintf("creating the release of tag %q", p.o.Tag), false, func(ctx context.Context) (*github.Response, error) {
		var resp *github.Response
		var err error
		rel, resp, err = p.c.Repositories.CreateRelease(ctx, p.owner, p.repo, req)
		return resp, err
	})
	if isStatus(err, http.StatusUnprocessableEntity) && strings.Contains(err.Error(), "already_exists") {
		// Another run created it meanwhile.
		rel, err = get()
		return rel, false, err
	}
	if err != nil {
		return nil, false, err
	}
	p.o.Log.Info("created the release", "tag", p.o.Tag, "id", rel.GetID())
	return rel, true, nil
}

// assets lists the release's assets by name, every page.
func (p *publisher) assets(ctx context.Context, id int64) (map[string]*github.ReleaseAsset, error) {
	out := map[string]*github.ReleaseAsset{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		var got []*github.ReleaseAsset
		var resp *github.Response
		err := p.c.Do(ctx, fmt.Sprintf("listing the assets of release %d (page %d)", id, max(opts.Page, 1)), true, func(ctx context.Context) (*github.Response, error) {
			var err error
			got, resp, err = p.c.Repositories.ListReleaseAssets(ctx, p.owner, p.repo, id, opts)
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, a := range got {
			out[a.GetName()] = a
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func isStatus(err error, code int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == code
}

// hashFile is the digest and size of the file at path.
func hashFile(path string) (digest.SHA256, int64, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return digest.SHA256{}, 0, err
	}
	defer f.Close()
	s := digest.New()
	if _, err := io.Copy(s, f); err != nil {
		return digest.SHA256{}, 0, fmt.Errorf("reading %q: %w", path, err)
	}
	return s.Digest(), s.Size(), nil
}

func queryEscape(name, label string) string {
	v := url.Values{}
	v.Set("name", name)
	v.Set("label", label)
	return v.Encode()
}
