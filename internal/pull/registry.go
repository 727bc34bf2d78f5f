package pull

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/timeouts"
)

// maxManifestSize bounds an OCI manifest or index read from the registry.
const maxManifestSize = 4 << 20

// acceptedManifests are the manifest media types asked for.
var acceptedManifests = []types.MediaType{types.OCIManifestSchema1, types.OCIImageIndex, types.DockerManifestSchema2, types.DockerManifestList}

// client reads one repository: manifests and blobs by digest (a manifest by
// tag once, when the caller allows it), over an authenticated transport,
// retrying what failed for a transient reason.
type client struct {
	repo     name.Repository
	http     *http.Client
	backoff  remote.Backoff
	log      *slog.Logger
	registry string
}

// connect authenticates for pulling from repo.
func connect(ctx context.Context, o *Options, repo name.Repository) (*client, error) {
	c := &client{repo: repo, backoff: o.Backoff, log: o.Log, registry: repo.RegistryStr()}
	kc, err := o.Credentials.KeychainFor(repo.RegistryStr())
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	auth, err := authn.Resolve(ctx, kc, repo)
	if err != nil {
		return nil, c.classify(err, "finding credentials")
	}
	rt := transport.NewUserAgent(o.Transport, o.UserAgent)
	rt, err = transport.NewWithContext(ctx, repo.Registry, auth, rt, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return nil, c.classify(err, "connecting")
	}
	c.http = &http.Client{Transport: rt}
	return c, nil
}

func (c *client) url(kind, ref string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", c.repo.Scheme(), c.repo.RegistryStr(), c.repo.RepositoryStr(), kind, ref)
}

// manifest GETs the manifest ref (a tag or "sha256:<hex>") and returns its
// bytes, media type and digest. A manifest fetched by digest must have it;
// want > 0 is the size its descriptor gives.
func (c *client) manifest(ctx context.Context, ref string, want int64) ([]byte, types.MediaType, digest.SHA256, error) {
	var (
		body []byte
		mt   types.MediaType
	)
	err := c.retry(ctx, "reading manifest "+ref, func(ctx context.Context) error {
		var accept []string
		for _, t := range acceptedManifests {
			accept = append(accept, string(t))
		}
		resp, err := c.get(ctx, c.url("manifests", ref), strings.Join(accept, ","))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		limit := int64(maxManifestSize)
		if want > 0 {
			limit = want
		}
		var b bytes.Buffer
		n, err := io.Copy(&b, io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return err
		}
		if n > limit {
			return &contentError{fmt.Sprintf("manifest %s is larger than %d bytes", ref, limit)}
		}
		body, mt = b.Bytes(), types.MediaType(strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0]))
		return nil
	})
	if err != nil {
		return nil, "", digest.SHA256{}, err
	}
	d := digest.SHA256(sha256.Sum256(body))
	if strings.HasPrefix(ref, "sha256:") && d.String() != ref {
		return nil, "", digest.SHA256{}, &contentError{fmt.Sprintf("manifest %s has digest %s: the registry served other content than the digest pins", ref, d)}
	}
	if want > 0 && int64(len(body)) != want {
		return nil, "", digest.SHA256{}, &contentError{fmt.Sprintf("manifest %s has %d bytes, not the %d its descriptor gives", ref, len(body), want)}
	}
	return body, mt, d, nil
}

// blob GETs the blob d into f (from its start), hashing what it writes,
// reading at most size+1 bytes: it fails as soon as the registry sends more
// than the descriptor's size, and at the end when it sent less or other
// bytes than d. A transient failure starts the blob again.
func (c *client) blob(ctx context.Context, d digest.SHA256, size int64, f *os.File) error {
	return c.retry(ctx, "reading blob "+d.String(), func(ctx context.Context) error {
		if err := f.Truncate(0); err != nil {
			return &fileError{err}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return &fileError{err}
		}
		resp, err := c.get(ctx, c.url("blobs", d.String()), "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.ContentLength >= 0 && resp.ContentLength != size {
			return &contentError{fmt.Sprintf("blob %s is %d bytes long as served, not the %d its descriptor gives", d, resp.ContentLength, size)}
		}
		sum := digest.New()
		w := &limitedWriter{w: io.MultiWriter(f, sum), left: size}
		buf := make([]byte, digest.BufferSize)
		if _, err := io.CopyBuffer(w, resp.Body, buf); err != nil {
			if errors.Is(err, errTooLong) {
				return &contentError{fmt.Sprintf("blob %s is longer than the %d bytes its descriptor gives", d, size)}
			}
			return err // a file error is not retried, a transport error is
		}
		switch got := sum.Digest(); {
		case sum.Size() != size:
			return &contentError{fmt.Sprintf("blob %s has %d bytes, not the %d its descriptor gives", d, sum.Size(), size)}
		case got != d:
			return &contentError{fmt.Sprintf("blob %s has digest %s: the registry served other content than the digest pins", d, got)}
		}
		return nil
	})
}

// get GETs url and returns the response when it is 200 OK (the caller
// closes its body), or the registry's error.
func (c *client) get(ctx context.Context, url, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// errTooLong is a blob longer than its descriptor says.
var errTooLong = errors.New("longer than its descriptor")

// limitedWriter writes at most left bytes, then fails with errTooLong.
type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errTooLong
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err != nil {
		return n, &fileError{err}
	}
	return n, nil
}

// retry runs op until it succeeds, fails in a way another attempt cannot
// fix, or has been tried backoff.Steps times; every wait ends when ctx does.
func (c *client) retry(ctx context.Context, what string, op func(context.Context) error) error {
	b := c.backoff
	steps := b.Steps
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || attempt >= steps || !transient(ctx, err) {
			return err
		}
		c.log.Warn("retrying after a transient registry error", "registry", c.registry, "what", what, "error", err)
		t := time.NewTimer(b.Step())
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (while waiting to try again after: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// transient reports whether another attempt may succeed: a status in
// push.RetryStatusCodes, or a connection that failed or was cut (not one
// that timed out: timeouts.Error names the limit to raise instead).
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ce *contentError
	var fe *fileError
	var silent *timeouts.Error
	if errors.As(err, &ce) || errors.As(err, &fe) || errors.As(err, &silent) {
		return false // a silent peer fails once, naming the limit
	}
	var te *transport.Error
	if errors.As(err, &te) {
		for _, s := range push.RetryStatusCodes {
			if te.StatusCode == s {
				return true
			}
		}
		return false
	}
	return true // a network error
}

// contentError is content that is not what its digest or descriptor says:
// a broken or hostile registry. It is never retried.
type contentError struct{ msg string }

func (e *contentError) Error() string { return e.msg }

// fileError is a local file that cannot be written.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }
