package push

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/digest"
)

// Transfer is how a blob came to be in the target repository.
type Transfer string

// The ways a blob reaches the repository.
const (
	// Present means the repository had the blob: nothing was sent or read.
	Present Transfer = "already present"
	// Mounted means the registry linked the blob from another repository
	// of the same registry (a cross-repository mount): nothing was sent.
	Mounted Transfer = "mounted"
	// Uploaded means the blob's bytes were sent.
	Uploaded Transfer = "uploaded"
)

// Blob is one blob of a push and how it reached the repository.
type Blob struct {
	Digest   digest.SHA256
	Size     int64
	Transfer Transfer
	// From is the repository a mounted blob came from.
	From string
}

// opened is a layer that counts how often its content was opened: a
// mount that the registry declined falls back to an upload, which opens it.
type opened interface{ openCount() int64 }

func (l *fileLayer) openCount() int64 { return l.opens.Load() }

// transfer makes sure that the repository has the blob l: nothing when it
// has it already; else a cross-repository mount from the first of the
// session's mount sources (and extra ones) that has it; else an upload.
// The blob's digest must be known.
func (s *session) transfer(ctx context.Context, l v1.Layer, extra []name.Repository) (err error) {
	h, err := l.Digest()
	if err != nil {
		return fmt.Errorf("%w: a blob's digest is unknown before its upload", errNotComplete)
	}
	size, _ := l.Size()
	d, _ := digest.ParseHex(h.Hex)
	b := Blob{Digest: d, Size: size, Transfer: Present}
	defer func() {
		if err == nil {
			s.record(b)
		}
	}()
	ok, err := s.blobExists(ctx, s.repo, h, false)
	if err != nil || ok {
		return err
	}
	for _, src := range s.mountSources(extra) {
		has, herr := s.blobExists(ctx, src, h, true)
		if herr != nil {
			return herr
		}
		if !has {
			continue
		}
		var before int64
		o, counts := l.(opened)
		if counts {
			before = o.openCount()
		}
		if err = s.upload(ctx, &remote.MountableLayer{Layer: l, Reference: src.Digest(h.String())}); err != nil {
			return err
		}
		b.Transfer, b.From = Mounted, src.Name()
		if counts && o.openCount() != before {
			b.Transfer, b.From = Uploaded, "" // the registry declined the mount
		}
		return nil
	}
	b.Transfer = Uploaded
	return s.upload(ctx, l)
}

// mountSources are the session's mount sources, then extra ones: those of
// the target's registry (a mount never crosses registries), without the
// target itself and duplicates.
func (s *session) mountSources(extra []name.Repository) []name.Repository {
	var out []name.Repository
	for _, r := range slices.Concat(s.mountFrom, extra) {
		if r.RegistryStr() == s.repo.RegistryStr() && r.Name() != s.repo.Name() &&
			!slices.ContainsFunc(out, func(o name.Repository) bool { return o.Name() == r.Name() }) {
			out = append(out, r)
		}
	}
	return out
}

// blobExists asks repo whether it has the blob h (HEAD). For a mount
// source (lenient) a refusal (401, 403) means no: the credentials may only
// reach the target.
func (s *session) blobExists(ctx context.Context, repo name.Repository, h v1.Hash, lenient bool) (bool, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), h)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	case http.StatusUnauthorized, http.StatusForbidden:
		if lenient {
			return false, nil
		}
	}
	return false, transport.CheckError(resp, http.StatusOK, http.StatusNotFound)
}

// record notes how a blob reached the repository.
func (s *session) record(b Blob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.blobs[b.Digest]; !ok {
		s.order = append(s.order, b.Digest)
	}
	s.blobs[b.Digest] = b
}

// transfers lists the blobs of the push, in the order they were done.
func (s *session) transfers() []Blob {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Blob, 0, len(s.order))
	for _, d := range s.order {
		out = append(out, s.blobs[d])
	}
	return out
}
