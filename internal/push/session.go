package push

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// session is one authenticated connection to the target repository.
type session struct {
	registry string
	repo     name.Repository
	creds    *credSource
	retry    *retrier
	puller   *remote.Puller
	pusher   *remote.Pusher
	client   *http.Client // for requests go-containerregistry does not make (blob HEADs)
	jobs     int          // blobs transferred at once

	// mountFrom are repositories of the same registry that blobs may be
	// mounted from (the session's token may pull from them).
	mountFrom []name.Repository

	mu    sync.Mutex
	blobs map[digest.SHA256]Blob
	order []digest.SHA256
}

// connect authenticates once, for pushing to repo and pulling from it and
// from the mount sources, and sets up the puller and pusher on that
// transport. Retries are the retrier's (see retrier): go-containerregistry's
// own are turned off, as their waits do not end when ctx does.
func (o *Options) connect(ctx context.Context, repo name.Repository, mountFrom, hints []name.Repository) (*session, error) {
	kc, creds := o.Credentials.keychain(repo.RegistryStr())
	s := &session{registry: repo.RegistryStr(), repo: repo, creds: creds, jobs: o.Jobs, mountFrom: mountFrom, blobs: map[digest.SHA256]Blob{}}
	scopes := []string{repo.Scope(transport.PushScope)}
	for _, r := range s.mountSources(hints) {
		scopes = append(scopes, r.Scope(transport.PullScope))
	}
	auth, err := authn.Resolve(ctx, kc, repo)
	if err != nil {
		return nil, s.classify(err, "finding credentials")
	}
	s.retry = &retrier{backoff: o.Backoff, retryable: retryPredicate(ctx, o.Log, s.registry), statuses: RetryStatusCodes}
	var rt http.RoundTripper = &retryTransport{inner: o.Transport, r: s.retry}
	rt = transport.NewUserAgent(rt, o.UserAgent)
	rt, err = transport.NewWithContext(ctx, repo.Registry, auth, rt, scopes)
	if err != nil {
		return nil, s.classify(err, "connecting")
	}
	s.client = &http.Client{Transport: rt}
	never := func(error) bool { return false }
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt), // a *transport.Wrapper: used as is, no retry layer added
		remote.WithRetryPredicate(never),
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

// upload puts one blob in the repository (nothing when it is there).
func (s *session) upload(ctx context.Context, l v1.Layer) error {
	return s.retry.do(ctx, func(ctx context.Context) error { return s.pusher.Upload(ctx, s.repo, l) })
}

// put puts a manifest under ref (a tag, or its digest), without its blobs.
func (s *session) put(ctx context.Context, ref name.Reference, m remote.Taggable) error {
	return s.retry.do(ctx, func(ctx context.Context) error { return s.pusher.Put(ctx, ref, m) })
}

// push puts an image or index with everything it refers to under ref.
func (s *session) push(ctx context.Context, ref name.Reference, m remote.Taggable) error {
	return s.retry.do(ctx, func(ctx context.Context) error { return s.pusher.Push(ctx, ref, m) })
}

func (s *session) classify(err error, op string) error {
	return classify(err, op, s.registry, s.creds)
}

// describe is what a tag points at, for messages: its digest, or "nothing".
func describe(d *v1.Descriptor) string {
	if d == nil {
		return "nothing (the tag was deleted)"
	}
	return d.Digest.String()
}

// errNotComplete is returned when a manifest still lacks a digest after
// everything was hashed or uploaded: a bug, not the user's doing.
var errNotComplete = fmt.Errorf("the manifest is not complete after the upload (internal error)")
