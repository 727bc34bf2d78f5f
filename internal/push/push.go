package push

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/version"
	"github.com/slipway/actions/internal/workspace"
)

// Options says what to push where.
type Options struct {
	// Ref is the target tag, "registry/repository:tag".
	Ref string
	// Subject is what to push. When it is empty, what Manifest lists is
	// pushed: its artifact files as one artifact, its image, or both as one
	// image index.
	Subject Subject
	// Manifest is the path of the build's artifact manifest, or "". Files
	// it lists are pushed with the digest it records (not hashed before the
	// upload, checked during it), and a record of the push (role registry,
	// the pinned reference as URI) is added to it.
	Manifest string
	// AllowOverwrite lets the push move a tag that points at other content.
	AllowOverwrite bool
	// Dir is the workspace: relative paths are relative to it, and every
	// path (subjects, the manifest, the files and layouts it names) must
	// lead inside it, symbolic links followed; "" means the working
	// directory.
	Dir string
	// Credentials for the registry.
	Credentials Credentials

	// Transport is the HTTP transport; nil means NewTransport().
	Transport http.RoundTripper
	// Backoff spaces retries of transient errors; zero means DefaultBackoff.
	Backoff remote.Backoff
	// Jobs is how many blobs are uploaded at once; 0 means 4.
	Jobs int
	// UserAgent is sent to the registry; "" means "slipway/<version>".
	UserAgent string
	// MountFrom are repositories ("registry/repository", on the target's
	// registry) that blobs the target lacks are mounted from when they have
	// them, before the repositories the build manifest records pushes to.
	MountFrom []string
	// DigestCache gives the digests of files that no build manifest
	// describes, when they are unchanged since slipway last read them, and
	// remembers the repositories they were pushed to; nil for none.
	DigestCache *digestcache.Cache
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// TagSettle is how long to wait after setting a new tag before reading
	// it again; 0 means DefaultTagSettle.
	TagSettle time.Duration

	// beforeSetTag, when set (by tests), runs between the last check of a
	// new tag and the put that sets it.
	beforeSetTag func(context.Context)
	// root is the workspace (Dir) that every path must stay in.
	root *workspace.Root
}

// Status says what a push did to the tag.
type Status string

// The outcomes of a successful push.
const (
	// Pushed means the tag did not exist and now points at the content.
	Pushed Status = "pushed"
	// AlreadyPresent means the tag already pointed at the same content:
	// nothing was changed.
	AlreadyPresent Status = "already present"
	// Replaced means the tag pointed at other content and was moved
	// (only with AllowOverwrite).
	Replaced Status = "replaced"
)

// Result is what a push did.
type Result struct {
	// Tag is the fully qualified tag, "registry/repository:tag".
	Tag string
	// Lowercased is true when Options.Ref named the repository with capital
	// letters, which Tag has in lower case.
	Lowercased bool
	// Digest is the digest of the pushed manifest.
	Digest digest.SHA256
	// PinnedRef is "registry/repository@sha256:<hex>".
	PinnedRef string
	// MediaType and Size describe the pushed manifest.
	MediaType string
	Size      int64
	Status    Status
	// Previous is what the tag pointed at before a Replaced push.
	Previous digest.SHA256
	// Files are the files of an artifact push.
	Files []File
	// Blobs are the blobs the push needed, and how each reached the
	// repository (none when the tag already pointed at the content).
	Blobs []Blob
	// Record is the record added to the build manifest, or nil.
	Record *artifact.Record
}

func (o *Options) setDefaults() {
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	if o.Backoff.Steps == 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	if o.Dir == "" {
		o.Dir, _ = os.Getwd()
	}
	if o.TagSettle <= 0 {
		o.TagSettle = DefaultTagSettle
	}
	if o.UserAgent == "" {
		o.UserAgent = "slipway/" + version.String()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Push pushes o.Subject (or the manifest's artifacts) to o.Ref. Errors are
// marked with exit codes: bad input (2) for a malformed reference, a missing
// file or layout, or credentials the registry refuses; a failed check (1)
// for a tag that points at other content or a file that changed since the
// build; an infrastructure failure (3) for a registry that is unreachable or
// keeps failing after retries.
//
// Without AllowOverwrite a new tag is looked up again right before it is
// set and read back after a short wait (TagSettle): a concurrent push that
// moved it makes this push fail with a TagMovedError (exit 1). That check
// is not atomic (see setTagOnce); registries offer no conditional tag
// update.
func Push(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	// OCI repository names are lower case; GitHub's owner and repository
	// names (ghcr.io/${{ github.repository }}) keep their capitals.
	ref, lowercased := registryref.LowercaseRepository(o.Ref)
	tag, err := registryref.ParseTag(ref)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"ref\": %w", err))
	}
	if lowercased {
		o.Log.Info("the repository path is lowercased: OCI repository names are lower case", "ref", o.Ref, "as", tag.Name())
	}
	if err := o.Credentials.validate(); err != nil {
		return nil, exitcode.BadInput(err)
	}
	var man *artifact.Manifest
	var manPath string
	if o.root, err = workspace.New(o.Dir); err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("the workspace: %w", err))
	}
	if o.Manifest != "" {
		if manPath, err = o.resolve("input \"manifest\"", o.Manifest); err != nil {
			return nil, err
		}
		if man, err = artifact.ReadManifest(manPath); err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"manifest\": %w", err)), manPath)
		}
	}
	c, err := o.resolveContent(man, manPath)
	if err != nil {
		return nil, err
	}

	repo := tag.Context()
	mountFrom, err := o.mountSources(repo, man)
	if err != nil {
		return nil, err
	}
	s, err := o.connect(ctx, repo, mountFrom, c.mountHints())
	if err != nil {
		return nil, err
	}
	res := &Result{Tag: tag.Name(), Lowercased: lowercased}

	existing, err := s.head(ctx, tag)
	if err != nil {
		return nil, s.classify(err, fmt.Sprintf("looking up tag %q", tag.Name()))
	}
	if existing != nil {
		o.Log.Info("tag exists", "tag", tag.Name(), "digest", existing.Digest.String())
	}
	// Every digest is known before anything is sent (digest once: from the
	// build manifest, the digest cache, or one hashing pass), so that blobs
	// the registry has are neither read nor sent, and a tag that points at
	// other content fails before any upload.
	if err := c.hash(ctx); err != nil {
		return nil, s.classify(err, "hashing the files that no record gives a digest for")
	}
	m, known, err := c.manifest()
	if err != nil || !known {
		return nil, exitcode.Infra(fmt.Errorf("%w: %v", errNotComplete, err))
	}
	h, _ := m.Digest()
	if existing != nil && h == existing.Digest {
		return o.finish(res, s, tag, m, c, AlreadyPresent, nil, man, manPath)
	}
	if existing != nil && !o.AllowOverwrite {
		return nil, exitcode.Failure(&TagExistsError{Ref: tag.Name(), Existing: existing.Digest.String(), New: h.String()})
	}

	o.Log.Info("uploading", "repository", repo.Name())
	if err := c.upload(ctx, s); err != nil {
		return nil, s.classify(err, fmt.Sprintf("uploading to %q", repo.Name()))
	}
	if !o.AllowOverwrite {
		status, err := o.setTagOnce(ctx, s, tag, m, h)
		if err != nil {
			return nil, err
		}
		return o.finish(res, s, tag, m, c, status, nil, man, manPath)
	}
	if err := s.put(ctx, tag, m); err != nil {
		return nil, s.classify(err, fmt.Sprintf("setting tag %q", tag.Name()))
	}
	status := Pushed
	if existing != nil {
		status = Replaced
	}
	return o.finish(res, s, tag, m, c, status, existing, man, manPath)
}

// mountSources are the repositories that blobs may be mounted from:
// o.MountFrom (each must be on the target's registry), then every
// repository of the target's registry that a record of the build manifest
// points at (an earlier push of the build records its pinned reference).
func (o *Options) mountSources(target name.Repository, man *artifact.Manifest) ([]name.Repository, error) {
	var out []name.Repository
	for _, s := range o.MountFrom {
		r, err := registryref.ParseRepository(s)
		if err != nil {
			return nil, exitcode.BadInput(fmt.Errorf("input \"mount-from\": %w", err))
		}
		if r.RegistryStr() != target.RegistryStr() {
			return nil, exitcode.BadInputf("input \"mount-from\": repository %q is on registry %s, but the push goes to %s, and a blob can only be mounted within one registry; name a repository of %s, or remove it",
				s, r.RegistryStr(), target.RegistryStr(), target.RegistryStr())
		}
		out = append(out, r)
	}
	if man != nil {
		for _, rec := range man.Records {
			if ref, err := registryref.Parse(rec.URI); err == nil && ref.Context().RegistryStr() == target.RegistryStr() {
				out = append(out, ref.Context())
			}
		}
	}
	return out, nil
}

// finish fills in the result and adds the record to the build manifest.
func (o *Options) finish(res *Result, s *session, tag name.Tag, m pushable, c content, status Status, prev *v1.Descriptor, man *artifact.Manifest, manPath string) (*Result, error) {
	h, _ := m.Digest()
	size, _ := m.Size()
	mt, _ := m.MediaType()
	d, err := digest.ParseHex(h.Hex)
	if err != nil {
		return nil, exitcode.Infraf("manifest digest %q: %w (internal error)", h, err)
	}
	res.Digest, res.Size, res.MediaType, res.Status = d, size, string(mt), status
	res.PinnedRef = tag.Context().Digest(h.String()).String()
	res.Blobs = s.transfers()
	res.Files = c.pushedFiles()
	for i, f := range res.Files {
		for _, b := range res.Blobs {
			if b.Digest == f.Digest {
				res.Files[i].Transfer, res.Files[i].MountedFrom = b.Transfer, b.From
			}
		}
		o.rememberRepository(f, tag.Context())
	}
	if prev != nil {
		res.Previous, _ = digest.ParseHex(prev.Digest.Hex)
	}
	o.Log.Info("pushed", "tag", res.Tag, "status", string(status), "pinned", res.PinnedRef)
	if man == nil {
		return res, nil
	}
	// A registry record: where the artifacts went, not an artifact that
	// was built, signed or attested (see artifact.RoleRegistry).
	rec := artifact.Record{
		Name: tag.Context().Name(), URI: res.PinnedRef, Digest: d, Size: size,
		MediaType: string(mt), Role: artifact.RoleRegistry,
	}
	if err := addRecord(manPath, rec); err != nil {
		return nil, err
	}
	res.Record = &rec
	return res, nil
}

// rememberRepository notes in the digest cache that repo holds f, so that
// a later push of f to another repository of the registry mounts it.
func (o *Options) rememberRepository(f File, repo name.Repository) {
	if o.DigestCache == nil {
		return
	}
	if fi, err := os.Stat(f.Path); err == nil {
		if id, ok := digestcache.IdentityOf(fi); ok {
			o.DigestCache.AddRepository(f.Path, id, f.Digest, repo.Name())
		}
	}
}

// addRecord adds rec to the manifest at path, read again just before the
// atomic write so that records other stages added meanwhile are kept.
func addRecord(path string, rec artifact.Record) error {
	man, err := artifact.ReadManifest(path)
	if err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading the build manifest again to record the push: %w", err)), path)
	}
	man.Add(rec)
	if err := man.WriteFile(path); err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("recording the push in the build manifest: %w; the push itself succeeded", err)), path)
	}
	return nil
}
