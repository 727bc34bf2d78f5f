package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/verify"
)

// StateDir is the directory under the working directory where a dispatch
// keeps what it staged and what its jobs report (API8.md "status file").
const StateDir = ".slipway"

// Source says where the release comes from: a control plane (Server,
// Release), or a local manifest with its receipt (Manifest, Receipt).
type Source struct {
	// Server is the control plane's base URL; nil for a local manifest.
	Server *url.URL
	// Token returns the bearer token for Server: a service token (scopes
	// read and dispatch) or a fresh OIDC ID token for each call (the
	// server consumes one when it records the dispatch); never logged,
	// written or passed to a job.
	Token func(context.Context) (string, error)
	HTTP  *http.Client
	// Release is a release id (r-…) or the digest (sha256:…) of one of
	// its files.
	Release string
	// Manifest is the path of a manifest slipway upload recorded receipts
	// in; its files are read beside it, relative to Dir.
	Manifest string
	// Receipt is the release's receipt; empty to take it from the
	// manifest's receipt records.
	Receipt string
	// Dir is the workspace the manifest's paths are relative to.
	Dir string
}

// Staged is a release fetched into the working directory and verified.
type Staged struct {
	Release export.Release
	// Dir is where its files are: WORKDIR/.slipway/release-ID.
	Dir string
	// Manifest is the admitted manifest, with its receipt records.
	Manifest *artifact.Manifest
	// Report is the verification that passed.
	Report *verify.Report
	// Sources are the source repositories its verified provenance names.
	Sources []string
}

// RefusedError is a release that failed verification: nothing was
// submitted.
type RefusedError struct {
	Release string
	Report  *verify.Report
}

func (e *RefusedError) Error() string {
	failed := e.Report.Failed()
	first := "no check passed"
	if len(failed) > 0 {
		first = failed[0].Line()
	}
	return fmt.Sprintf("release %q failed verification, nothing was submitted: %d check(s) failed; the first: %s", e.Release, len(failed), first)
}

// StageOptions say what to stage where and under which policy.
type StageOptions struct {
	Source Source
	// Workdir is the job's working directory on the shared filesystem
	// (absolute).
	Workdir string
	// Policy is the trust policy. Receipts are required whatever its log
	// section says; without a log key in it, the control plane's key is
	// used (a local manifest needs the policy's).
	Policy *policy.Policy
	Log    *slog.Logger
	// Registry are the options to pull images with (nil: the Docker
	// config's credentials, default network limits).
	Registry []remote.Option
}

// Stage fetches the release into o.Workdir (unless an earlier run did)
// and verifies it there; a release failing any check is a *RefusedError.
func Stage(ctx context.Context, o StageOptions) (*Staged, error) {
	if !filepath.IsAbs(o.Workdir) {
		return nil, fmt.Errorf("workdir %q is not absolute: give its absolute path on the shared filesystem", o.Workdir)
	}
	src, id, err := o.source(ctx)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(o.Workdir, StateDir, "release-"+id)
	if h, ok := src.(*export.HTTPSource); ok {
		// A release admitted by reference is an image in its registry.
		if st, ok, err := stageReference(ctx, o, h, id, dir); ok {
			return st, err
		}
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return nil, fmt.Errorf("creating %q: %w; check that the workdir is writable", filepath.Dir(dir), err)
		}
		o.logger().Info("fetching the release", "release", id, "from", src.String(), "into", dir)
		if _, err := export.Export(ctx, export.Options{Source: src, Release: id, Output: dir}); err != nil {
			return nil, fmt.Errorf("fetching release %q: %w", id, err)
		}
	} else if err != nil {
		return nil, err
	} else {
		o.logger().Info("the release is staged already; verifying it again", "release", id, "dir", dir)
	}
	return verifyStaged(ctx, o, id, dir)
}

// verifyStaged verifies the release staged in dir under the policy, with
// receipts required.
func verifyStaged(ctx context.Context, o StageOptions, id, dir string) (*Staged, error) {
	m, err := artifact.ReadManifest(filepath.Join(dir, export.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("release %q staged in %q: %w; remove the directory to fetch it again", id, dir, err)
	}
	p, err := o.stagedPolicy(id, dir)
	if err != nil {
		return nil, err
	}
	r, err := verify.New(p, verify.WithLogger(o.logger())).VerifyManifest(ctx, m, dir)
	if err != nil {
		return nil, fmt.Errorf("verifying release %q: %w", id, err)
	}
	if !r.Verified {
		return nil, &RefusedError{Release: id, Report: r}
	}
	s := &Staged{Dir: dir, Manifest: m, Report: r, Sources: sourcesOf(r)}
	a, err := artifact.AdmittedAs(m)
	if err != nil {
		return nil, err
	}
	if a.ID != id {
		return nil, fmt.Errorf("the manifest staged in %q is release %q, not %q: remove the directory to fetch it again", dir, a.ID, id)
	}
	s.Release = export.Release{ID: id, ManifestDigest: a.Digest.String()}
	rc, err := os.ReadFile(filepath.Join(dir, id+artifact.ReceiptExt))
	if err != nil {
		return nil, err
	}
	parsed, err := receipt.Parse(rc)
	if err != nil {
		return nil, err
	}
	s.Release.Receipt, s.Release.LogIndex = string(rc), parsed.Index
	return s, nil
}

// stagedPolicy is the policy a release staged in dir is verified under:
// receipts required; without a log key in the policy, the control
// plane's, staged beside the release.
func (o StageOptions) stagedPolicy(id, dir string) (*policy.Policy, error) {
	p := *o.Policy
	if p.Log.Verifier == nil {
		key, err := os.ReadFile(filepath.Join(dir, export.KeyFile))
		if err != nil {
			return nil, fmt.Errorf("release %q: the policy names no log key and the staged release has none: %w; add a log section to the policy", id, err)
		}
		v, err := receipt.NewVerifier(string(key))
		if err != nil {
			return nil, fmt.Errorf("release %q: the control plane's log key: %w", id, err)
		}
		p.Log.VerifierKey, p.Log.Verifier = strings.TrimSpace(string(key)), v
	}
	p.Log.Receipts = policy.ReceiptsRequired
	return &p, nil
}

// sourcesOf are the source repositories r's verified provenance names,
// each once.
func sourcesOf(r *verify.Report) []string {
	var out []string
	for _, sub := range r.Subjects {
		for _, src := range sub.Sources {
			if !slices.Contains(out, src) {
				out = append(out, src)
			}
		}
	}
	return out
}

// source returns where to fetch from and the release id.
func (o StageOptions) source(ctx context.Context) (export.Source, string, error) {
	s := o.Source
	if s.Server == nil {
		l, err := newLocalSource(s, o.Policy)
		if err != nil {
			return nil, "", err
		}
		return l, l.rel.ID, nil
	}
	tok, err := s.bearer(ctx)
	if err != nil {
		return nil, "", err
	}
	h := &export.HTTPSource{Base: s.Server, Token: tok, HTTP: s.HTTP}
	switch {
	case strings.HasPrefix(s.Release, "sha256:"):
		rel, err := h.ReleaseByDigest(ctx, s.Release)
		if err != nil {
			return nil, "", err
		}
		if !export.ValidID(rel.ID) {
			return nil, "", fmt.Errorf("the server answered release id %q for %q, which is not a release id", rel.ID, s.Release)
		}
		return h, rel.ID, nil
	case export.ValidID(s.Release):
		return h, s.Release, nil
	}
	return nil, "", fmt.Errorf("release %q is neither a release id (r- and 16 hex digits) nor a digest (sha256:HEX): give one", s.Release)
}

// StaticToken is a Source.Token that always returns tok (a service token).
func StaticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// bearer returns a token for Server; "" without a Token.
func (s Source) bearer(ctx context.Context) (string, error) {
	if s.Token == nil {
		return "", nil
	}
	tok, err := s.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("a token for the control plane: %w", err)
	}
	return tok, nil
}

func (o StageOptions) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}
