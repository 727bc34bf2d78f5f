package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/version"
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
	// upload, checked during it), and a record of the push (role artifact,
	// the pinned reference as URI) is added to it.
	Manifest string
	// AllowOverwrite lets the push move a tag that points at other content.
	AllowOverwrite bool
	// Dir is the workspace: relative paths are relative to it.
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
	// Log receives progress; nil discards it.
	Log *slog.Logger
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
// The immutability check is not atomic: the tag is looked up before the
// upload and again just before it is set, but another writer can set it in
// between; registries offer no conditional tag update to close that gap.
func Push(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	tag, err := registryref.ParseTag(o.Ref)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"ref\": %w", err))
	}
	if err := o.Credentials.validate(); err != nil {
		return nil, exitcode.BadInput(err)
	}
	var man *artifact.Manifest
	var manPath string
	if o.Manifest != "" {
		manPath = o.abs(o.Manifest)
		if man, err = artifact.ReadManifest(manPath); err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"manifest\": %w", err)), manPath)
		}
	}
	c, err := o.resolveContent(man, manPath)
	if err != nil {
		return nil, err
	}

	repo := tag.Context()
	s, err := o.connect(ctx, repo)
	if err != nil {
		return nil, err
	}
	res := &Result{Tag: tag.Name(), Files: nil}

	existing, err := s.head(ctx, tag)
	if err != nil {
		return nil, s.classify(err, fmt.Sprintf("looking up tag %q", tag.Name()))
	}
	if existing != nil {
		o.Log.Info("tag exists", "tag", tag.Name(), "digest", existing.Digest.String())
		if !o.AllowOverwrite {
			// Learn the digest without uploading: a mismatch fails before
			// anything is sent, a match needs no upload at all.
			if err := c.hash(ctx); err != nil {
				return nil, s.classify(err, "hashing the files to compare them with the tag")
			}
		}
	}
	m, known, err := c.manifest()
	if err != nil {
		return nil, exitcode.Infra(err)
	}
	if known && existing != nil {
		h, _ := m.Digest()
		if h == existing.Digest {
			return o.finish(res, tag, m, c, AlreadyPresent, nil, man, manPath)
		}
		if !o.AllowOverwrite {
			return nil, exitcode.Failure(&TagExistsError{Ref: tag.Name(), Existing: existing.Digest.String(), New: h.String()})
		}
	}

	o.Log.Info("uploading", "repository", repo.Name())
	if err := c.upload(ctx, s.pusher, repo); err != nil {
		return nil, s.classify(err, fmt.Sprintf("uploading to %q", repo.Name()))
	}
	if m, known, err = c.manifest(); err != nil || !known {
		return nil, exitcode.Infra(fmt.Errorf("the manifest is not complete after the upload (internal error): %v", err))
	}
	h, _ := m.Digest()
	if existing != nil && h == existing.Digest {
		return o.finish(res, tag, m, c, AlreadyPresent, nil, man, manPath)
	}
	if !o.AllowOverwrite {
		// Narrow the race: someone may have set the tag during the upload.
		now, err := s.head(ctx, tag)
		if err != nil {
			return nil, s.classify(err, fmt.Sprintf("looking up tag %q again", tag.Name()))
		}
		if now != nil && now.Digest == h {
			return o.finish(res, tag, m, c, AlreadyPresent, nil, man, manPath)
		}
		if now != nil {
			return nil, exitcode.Failure(&TagExistsError{Ref: tag.Name(), Existing: now.Digest.String(), New: h.String()})
		}
	}
	if err := s.pusher.Put(ctx, tag, m); err != nil {
		return nil, s.classify(err, fmt.Sprintf("setting tag %q", tag.Name()))
	}
	status := Pushed
	if existing != nil {
		status = Replaced
	}
	return o.finish(res, tag, m, c, status, existing, man, manPath)
}

// finish fills in the result and adds the record to the build manifest.
func (o *Options) finish(res *Result, tag name.Tag, m pushable, c content, status Status, prev *v1.Descriptor, man *artifact.Manifest, manPath string) (*Result, error) {
	h, _ := m.Digest()
	size, _ := m.Size()
	mt, _ := m.MediaType()
	d, err := digest.ParseHex(h.Hex)
	if err != nil {
		return nil, exitcode.Infraf("manifest digest %q: %w (internal error)", h, err)
	}
	res.Digest, res.Size, res.MediaType, res.Status = d, size, string(mt), status
	res.PinnedRef = tag.Context().Digest(h.String()).String()
	res.Files = c.pushedFiles()
	if prev != nil {
		res.Previous, _ = digest.ParseHex(prev.Digest.Hex)
	}
	o.Log.Info("pushed", "tag", res.Tag, "status", string(status), "pinned", res.PinnedRef)
	if man == nil {
		return res, nil
	}
	rec := artifact.Record{
		Name: tag.Context().Name(), URI: res.PinnedRef, Digest: d, Size: size,
		MediaType: string(mt), Role: artifact.RoleArtifact,
	}
	if err := addRecord(manPath, rec); err != nil {
		return nil, err
	}
	res.Record = &rec
	return res, nil
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

// session is one authenticated connection to the target repository.
type session struct {
	registry string
	creds    *credSource
	puller   *remote.Puller
	pusher   *remote.Pusher
}

// connect authenticates once, for pushing and pulling the repository, and
// sets up the puller and pusher on that transport. Transport-level retries
// (RetryStatusCodes, transient network errors) and go-containerregistry's
// per-blob and per-manifest retries use o.Backoff.
func (o *Options) connect(ctx context.Context, repo name.Repository) (*session, error) {
	kc, creds := o.Credentials.keychain(repo.RegistryStr())
	s := &session{registry: repo.RegistryStr(), creds: creds}
	auth, err := authn.Resolve(ctx, kc, repo)
	if err != nil {
		return nil, s.classify(err, "finding credentials")
	}
	pred := retryPredicate(ctx, o.Log, s.registry)
	var rt http.RoundTripper = transport.NewRetry(o.Transport,
		transport.WithRetryBackoff(o.Backoff), transport.WithRetryPredicate(pred),
		transport.WithRetryStatusCodes(RetryStatusCodes...))
	rt = transport.NewUserAgent(rt, o.UserAgent)
	rt, err = transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, s.classify(err, "connecting")
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt), // a *transport.Wrapper: used as is
		remote.WithRetryBackoff(o.Backoff),
		remote.WithRetryPredicate(pred),
		remote.WithRetryStatusCodes(RetryStatusCodes...),
		remote.WithJobs(o.Jobs),
	}
	if s.puller, err = remote.NewPuller(opts...); err != nil {
		return nil, exitcode.Infra(err)
	}
	if s.pusher, err = remote.NewPusher(opts...); err != nil {
		return nil, exitcode.Infra(err)
	}
	return s, nil
}

// head returns the descriptor the tag points at, or nil when it does not exist.
func (s *session) head(ctx context.Context, tag name.Tag) (*v1.Descriptor, error) {
	d, err := s.puller.Head(ctx, tag)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	return d, err
}

func (s *session) classify(err error, op string) error {
	return classify(err, op, s.registry, s.creds)
}
