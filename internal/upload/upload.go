package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/workspace"
)

// DefaultChunkSize is the size of the chunks a blob is sent in.
const DefaultChunkSize = 64 << 20

// MaxManifestSize is the largest manifest the server admits (API7: 4 MiB).
const MaxManifestSize = 4 << 20

// Options say what to upload where.
type Options struct {
	// Server is the control plane's base URL (https://host[:port][/prefix]);
	// plain http only for a loopback address.
	Server string
	// Manifest is the build manifest's path (absolute, or relative to Dir).
	// Exactly one of Manifest, Subject and Reference is set.
	Manifest string
	// Subject is a single file to upload (relative to Dir) with Bundles,
	// its signature bundles, provenance, SBOMs and SBOM attestations: the
	// client writes the manifest of that release (SingleManifest).
	Subject string
	Bundles []string
	// Reference is an image, registry/repo@sha256:<hex>, for the server to
	// admit by reference (it copies the image and its referrers itself).
	Reference string
	// Dir is the workspace: the manifest's record paths are relative to it,
	// and nothing is read or written outside it.
	Dir string
	// Receipt is where the release's receipt is written; empty for
	// <manifest dir>/<release id>.receipt.
	Receipt string
	// Token returns the bearer token for a request; it is called for every
	// request (OIDC ID tokens are single-use).
	Token func(context.Context) (string, error)
	// HTTP is the client, bounded by package timeouts' limits.
	HTTP *http.Client
	// ChunkSize is the size of upload chunks; DefaultChunkSize when zero.
	ChunkSize int64
	Retry     Retry
	Log       *slog.Logger
}

// Result is what the upload did and what the server answered.
type Result struct {
	Release
	// Created is true for a new release (201), false for one the server
	// had admitted before (200, the first answer again).
	Created bool
	// ReceiptPath is where the release's receipt was written.
	ReceiptPath string
	// Blobs are the files of the release, in manifest order.
	Blobs []Blob
	// Records are the receipt records added to the manifest.
	Records []artifact.Record
}

// Upload uploads the files of the manifest the server does not hold, asks
// the server to admit the release, and records the receipt it returns.
// Errors carry exit codes (package exitcode): 1 for a release the server
// refused, 2 for bad input, 3 for a server unreachable or failing.
func Upload(ctx context.Context, o Options) (*Result, error) {
	res, err := run(ctx, o)
	var se *ServerError
	var ce *exitcode.Error
	if errors.As(err, &se) && !errors.As(err, &ce) {
		err = &exitcode.Error{Code: se.Code(), Err: err}
	}
	return res, err
}

func run(ctx context.Context, o Options) (*Result, error) {
	if err := o.checkWhat(); err != nil {
		return nil, err
	}
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Reference != "":
		return runReference(ctx, c, o)
	case o.Subject != "":
		return runSingle(ctx, c, o)
	}
	manifestPath, raw, m, err := readManifest(o)
	if err != nil {
		return nil, err
	}
	res, err := c.release(ctx, o, m, raw)
	if err != nil {
		return res, err
	}
	if err := record(o, manifestPath, m, res); err != nil {
		return res, err
	}
	return res, nil
}

// release uploads the files of m the server lacks, then asks it to admit
// the manifest raw (m's bytes).
func (c *client) release(ctx context.Context, o Options, m *artifact.Manifest, raw []byte) (*Result, error) {
	res := &Result{}
	var err error
	if res.Blobs, err = c.sendBlobs(ctx, o, m); err != nil {
		return res, err
	}
	rel, created, err := c.admit(ctx, raw)
	if err != nil {
		return res, err
	}
	res.Release, res.Created = *rel, created
	return res, nil
}

// SendBlobs is the first half of Upload of a manifest: it uploads the
// files of o.Manifest the server does not hold and admits nothing
// (scripts/bench measures the transfer with it).
func SendBlobs(ctx context.Context, o Options) ([]Blob, error) {
	c, err := newClient(o)
	if err != nil {
		return nil, err
	}
	_, _, m, err := readManifest(o)
	if err != nil {
		return nil, err
	}
	return c.sendBlobs(ctx, o, m)
}

// readManifest reads o.Manifest: its path, bytes and records.
func readManifest(o Options) (string, []byte, *artifact.Manifest, error) {
	manifestPath, err := workspace.Resolve(o.Dir, o.Manifest)
	if err != nil {
		return "", nil, nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("manifest %q: %w", o.Manifest, err)), o.Manifest)
	}
	raw, err := regfile.ReadAll(manifestPath, MaxManifestSize)
	if err != nil {
		return "", nil, nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("reading the manifest: %w; the server admits manifests of at most %s", err, regfile.FormatSize(MaxManifestSize))), o.Manifest)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), o.Manifest)
	if err != nil {
		return "", nil, nil, exitcode.WithFile(exitcode.BadInput(err), o.Manifest)
	}
	return manifestPath, raw, m, nil
}

func newClient(o Options) (*client, error) {
	base, err := ServerURL(o.Server)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	if o.Token == nil {
		return nil, exitcode.BadInputf("no token to authenticate with; set SLIPWAY_TOKEN (the token input) or run in a job with \"permissions: id-token: write\"")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := o.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	// Redirects would carry the request elsewhere: the server never sends
	// one, and the token must not follow one.
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{base: base, http: &noRedirect, token: o.Token, retry: o.Retry, log: log}, nil
}

// ServerURL checks the server's base URL: absolute http(s), plain http
// only for a loopback host (a token must not cross a network in clear).
func ServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("input \"server\": %q is not the base URL of a server; give it like https://slipway.example.org", s)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("input \"server\": %q is plain http to a host that is not loopback, which would send the token in clear; use https://", s)
	}
	u.Path = trimSlash(u.Path)
	return u, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func trimSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// sendBlobs makes sure the server holds every file the manifest records
// (receipts excepted: the server drops them), each digest once.
func (c *client) sendBlobs(ctx context.Context, o Options, m *artifact.Manifest) ([]Blob, error) {
	chunk := o.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	seen := map[digest.SHA256]bool{}
	var out []Blob
	for _, rec := range m.Records {
		if rec.Path == "" || rec.Role == artifact.RoleReceipt || seen[rec.Digest] {
			continue
		}
		seen[rec.Digest] = true
		b := Blob{Name: rec.Path, Digest: rec.Digest, Size: rec.Size, Transfer: Present}
		ok, err := c.has(ctx, rec.Digest)
		if err != nil {
			return out, err
		}
		if !ok {
			if b.Resumed, err = c.sendFile(ctx, o.Dir, rec, chunk); err != nil {
				return out, err
			}
			b.Transfer = Uploaded
			c.log.Info("uploaded", "name", rec.Path, "digest", rec.Digest.String(), "size", rec.Size, "resumed", b.Resumed)
		}
		out = append(out, b)
	}
	return out, nil
}

// sendFile uploads the file of rec after checking it still has the size
// the manifest records (the server checks the digest).
func (c *client) sendFile(ctx context.Context, dir string, rec artifact.Record, chunk int64) (int, error) {
	p, err := workspace.Resolve(dir, filepath.FromSlash(rec.Path))
	if err != nil {
		return 0, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("record %q: %w", rec.Name, err)), rec.Path)
	}
	f, err := regfile.Open(p)
	if err != nil {
		return 0, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("record %q: opening %q: %w; run the upload in the workspace the manifest was written in", rec.Name, rec.Path, err)), rec.Path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, exitcode.Infra(fmt.Errorf("record %q: %w", rec.Name, err))
	}
	if fi.Size() != rec.Size {
		return 0, exitcode.WithFile(exitcode.Failuref("record %q: %q is %d bytes, but the manifest records %d: it changed after the manifest recorded it; rebuild, or restore the file", rec.Name, rec.Path, fi.Size(), rec.Size), rec.Path)
	}
	return c.upload(ctx, f, rec.Path, rec.Digest, rec.Size, chunk)
}

// readBody reads at most limit bytes of an answer, closing it.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the answer is larger than %s", regfile.FormatSize(limit))
	}
	return b, nil
}
