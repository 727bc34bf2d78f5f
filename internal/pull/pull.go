package pull

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/verify"
	"github.com/slipway/actions/internal/version"
)

// Options say what to pull, where to, and whom to trust.
type Options struct {
	// Ref is the release: "registry/repository@sha256:<hex>".
	Ref string
	// AllowTag accepts "registry/repository:tag": the tag is resolved once,
	// and everything after is read by that digest (Result.PinnedRef).
	AllowTag bool
	// OutputDir is the absolute directory the release's files appear in. It
	// must not exist, or be empty.
	OutputDir string
	// Verifier checks the release's build manifest before its files are
	// made visible. Nil only with SkipVerify.
	Verifier *verify.Verifier
	// SkipVerify restores the release with its digests checked but no
	// signature, provenance or policy checked.
	SkipVerify bool
	// Credentials for the registry, as push takes them.
	Credentials push.Credentials

	// Transport is the HTTP transport (with its connect and response
	// timeouts, see package timeouts); nil means push.NewTransport().
	Transport http.RoundTripper
	// Backoff spaces retries of transient errors; zero means
	// push.DefaultBackoff.
	Backoff remote.Backoff
	// Jobs is how many blobs are downloaded at once; 0 means 4.
	Jobs int
	// UserAgent is sent to the registry; "" means "slipway/<version>".
	UserAgent string
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Transport == nil {
		o.Transport = push.NewTransport()
	}
	if o.Backoff.Steps == 0 {
		o.Backoff = push.DefaultBackoff
	}
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	if o.UserAgent == "" {
		o.UserAgent = "slipway/" + version.String()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// File is one file of the release as it was written.
type File struct {
	// Name is the path relative to the output directory.
	Name   string
	Digest digest.SHA256
	Size   int64
}

// Result is what a pull did.
type Result struct {
	// PinnedRef is the release by digest, "registry/repository@sha256:<hex>".
	PinnedRef string
	Digest    digest.SHA256
	// Tag is the tag that was resolved to Digest (AllowTag), or "".
	Tag string
	// Manifest is the build manifest's path under the output directory.
	Manifest string
	// Files are the files written, the manifest among them.
	Files []File
	// Report is the verification's report (nil with SkipVerify). It is set
	// when verification failed too, with the error.
	Report *verify.Report
}

// Pull fetches the release o.Ref, checks that it holds exactly what its
// build manifest lists, writes it into a temporary directory beside
// o.OutputDir, verifies it there, and renames the directory into place.
// On any error nothing is left in o.OutputDir or beside it. Errors are
// marked with exit codes: bad input (2) for a malformed or tag reference, a
// non-empty output directory or credentials the registry refuses; a failed
// check (1) for a release that is not what its digests say, that holds
// files its manifest does not list, or that fails verification (the
// Result then holds the report); an infrastructure failure (3) for a
// registry that cannot be reached, or a full disk.
func Pull(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	ref, err := registryref.Parse(o.Ref)
	switch {
	case err != nil:
		return nil, exitcode.BadInput(fmt.Errorf("input \"ref\": %w", err))
	case o.Verifier == nil && !o.SkipVerify:
		return nil, exitcode.Infraf("pull without a verifier and without SkipVerify (internal error)")
	case !filepath.IsAbs(o.OutputDir):
		return nil, exitcode.Infraf("output directory %q is not absolute (internal error)", o.OutputDir)
	}
	tag, isTag := ref.(name.Tag)
	if isTag && !o.AllowTag {
		return nil, exitcode.BadInputf("ref %q is a tag, which whoever can push may move; pull a release by its digest (registry/repository@sha256:…, the push's pinned-ref output), or set allow-tag (--allow-tag) to resolve the tag once and pull the digest it names then", o.Ref)
	}
	if err := checkOutputDir(o.OutputDir); err != nil {
		return nil, err
	}
	c, err := connect(ctx, &o, ref.Context())
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if isTag {
		_, _, d, err := c.manifest(ctx, tag.TagStr(), 0)
		if err != nil {
			return nil, c.classify(err, fmt.Sprintf("resolving tag %q", o.Ref))
		}
		res.Digest, res.Tag = d, tag.Name()
		o.Log.Warn("pulling a tag: resolved once; pin the digest next time", "tag", tag.Name(), "digest", d.String())
	} else if res.Digest, err = digest.Parse(ref.Identifier()); err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"ref\": %q: %w", o.Ref, err))
	}
	res.PinnedRef = ref.Context().Digest(res.Digest.String()).String()

	rel, err := c.release(ctx, res.Digest)
	if err != nil {
		return nil, c.classify(err, "reading release "+res.PinnedRef)
	}
	st, err := newStage(o.OutputDir)
	if err != nil {
		return nil, err
	}
	defer st.cleanup()
	p, m, err := o.plan(ctx, c, st, rel)
	if err != nil {
		return nil, c.classify(err, "reading release "+res.PinnedRef)
	}
	if err := o.download(ctx, c, st, rel, p, m); err != nil {
		return nil, c.classify(err, "downloading release "+res.PinnedRef)
	}
	for _, f := range rel.files {
		res.Files = append(res.Files, File{Name: f.name, Digest: f.digest, Size: f.size})
	}
	res.Manifest = filepath.Join(o.OutputDir, filepath.FromSlash(p.manifest.name))
	if !o.SkipVerify {
		if res.Report, err = o.verify(ctx, st, m, rel, p); err != nil {
			return res, err
		}
	}
	if err := st.commit(); err != nil {
		return res, err
	}
	o.Log.Info("pulled", "release", res.PinnedRef, "files", len(res.Files), "to", o.OutputDir)
	return res, nil
}

// plan downloads the build manifest first and checks the release against
// it, so that a release holding anything else fails before its other blobs
// are read.
func (o *Options) plan(ctx context.Context, c *client, st *stage, rel *release) (*plan, *artifact.Manifest, error) {
	mf, err := findManifest(rel.files)
	if err != nil {
		return nil, nil, err
	}
	if mf.size > maxManifestFile {
		return nil, nil, &contentError{fmt.Sprintf("the build manifest %q is %d bytes, more than %d", mf.name, mf.size, maxManifestFile)}
	}
	if err := o.fetch(ctx, c, st, mf); err != nil {
		return nil, nil, err
	}
	m, err := artifact.ReadManifest(st.path(mf.name))
	if err != nil {
		return nil, nil, &contentError{fmt.Sprintf("the release's build manifest %q: %v", mf.name, err)}
	}
	p, err := check(m, mf, rel)
	if err != nil {
		return nil, nil, err
	}
	return p, m, nil
}

// maxManifestFile bounds the build manifest, which is read into memory.
const maxManifestFile = 64 << 20

// download fetches every file but the manifest (o.Jobs at a time) and
// checks the subjects file.
func (o *Options) download(ctx context.Context, c *client, st *stage, rel *release, p *plan, m *artifact.Manifest) error {
	todo := make([]file, 0, len(rel.files))
	for _, f := range rel.files {
		if f.name != p.manifest.name {
			todo = append(todo, f)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Jobs)
	for _, f := range todo {
		g.Go(func() error { return o.fetch(gctx, c, st, f) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if p.subjects != nil {
		return checkSubjects(m, st.path(p.subjects.name), p.subjects.name)
	}
	return nil
}

// fetch downloads one file into the stage.
func (o *Options) fetch(ctx context.Context, c *client, st *stage, f file) error {
	out, err := st.create(f.name)
	if err != nil {
		return err
	}
	o.Log.Debug("downloading", "file", f.name, "digest", f.digest.String(), "size", f.size)
	if err := c.blob(ctx, f.digest, f.size, out); err != nil {
		out.Close()
		return fmt.Errorf("%q: %w", f.name, err)
	}
	return closeSynced(out)
}

// verify verifies the staged release's manifest. Every file must be read
// by the verification: an artifact, a bundle or signature about one, an
// SBOM of one, the manifest or its subjects file; anything the verifier
// would not look at is refused, since it would become visible unverified.
func (o *Options) verify(ctx context.Context, st *stage, m *artifact.Manifest, rel *release, p *plan) (*verify.Report, error) {
	subjects := verify.ManifestSubjects(m, st.dir)
	if len(subjects) == 0 {
		return nil, exitcode.Failuref("the release's build manifest lists no artifact to verify")
	}
	covered := map[string]bool{st.path(p.manifest.name): true}
	if p.subjects != nil {
		covered[st.path(p.subjects.name)] = true
	}
	for _, s := range subjects {
		covered[s.Path] = true
		for _, b := range s.Bundles {
			covered[b] = true
		}
		for _, r := range s.SBOMs {
			covered[st.path(r.Path)] = true
		}
	}
	for _, f := range rel.files {
		if !covered[st.path(f.name)] {
			return nil, exitcode.Failuref("the release holds %q, which verification would not read: it could not be verified; nothing was written", f.name)
		}
	}
	// VerifyManifest, not Verify: the manifest came from the registry and
	// nobody signed it; it also checks it against the verified provenance.
	r, err := o.Verifier.VerifyManifest(ctx, m, st.dir)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("verifying the release: %w", err))
	}
	relocate(r, st.dir, o.OutputDir)
	if !r.Verified {
		failed := r.Failed()
		return r, exitcode.WithFile(exitcode.Failuref("the release failed verification (%d check(s); the first: %s); nothing was written to %q", len(failed), failed[0].Line(), o.OutputDir), failed[0].Bundle)
	}
	return r, nil
}

// relocate rewrites the report's paths from the stage to where the files
// are once the stage is renamed.
func relocate(r *verify.Report, from, to string) {
	move := func(p string) string {
		if rest, ok := strings.CutPrefix(p, from+string(filepath.Separator)); ok {
			return filepath.Join(to, rest)
		}
		return p
	}
	for _, s := range r.Subjects {
		s.Path = move(s.Path)
		for i := range s.Checks {
			s.Checks[i].Bundle = move(s.Checks[i].Bundle)
		}
	}
}
