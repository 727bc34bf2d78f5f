package dispatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/workspace"
)

// localSource is a release given as a manifest slipway upload recorded
// its receipts in, with its files in the workspace: no server round trip.
// It is an export.Source, so that a local release is staged and verified
// exactly as a fetched one.
type localSource struct {
	root *workspace.Root
	rel  export.Release
	adm  *artifact.Admitted
	key  string
	name string
}

func newLocalSource(s Source, p *policy.Policy) (*localSource, error) {
	if s.Manifest == "" {
		return nil, fmt.Errorf("no release given: give a release id or digest with a server, or a manifest with its receipt")
	}
	root, err := workspace.New(s.Dir)
	if err != nil {
		return nil, err
	}
	path, err := root.Resolve(s.Manifest)
	if err != nil {
		return nil, fmt.Errorf("manifest %q: %w", s.Manifest, err)
	}
	m, err := artifact.ReadManifest(path)
	if err != nil {
		return nil, err
	}
	adm, err := artifact.AdmittedAs(m)
	if err != nil {
		return nil, fmt.Errorf("manifest %q: %w", s.Manifest, err)
	}
	rpath := s.Receipt
	if rpath == "" {
		recs := m.ByRole(artifact.RoleReceipt)
		if len(recs) == 0 {
			return nil, fmt.Errorf("manifest %q records no receipt: upload the release first (slipway upload), or give its receipt", s.Manifest)
		}
		rpath = recs[0].Path
	}
	rfile, err := root.Resolve(rpath)
	if err != nil {
		return nil, fmt.Errorf("receipt %q: %w", rpath, err)
	}
	data, err := regfile.ReadAll(rfile, receipt.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("receipt %q: %w", rpath, err)
	}
	rc, err := receipt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("receipt %q: %w", rpath, err)
	}
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		return nil, fmt.Errorf("receipt %q: its log entry: %w", rpath, err)
	}
	if e.Release != adm.ID {
		return nil, fmt.Errorf("receipt %q is of release %q, but manifest %q is release %q: give the receipt slipway upload wrote for this manifest", rpath, e.Release, s.Manifest, adm.ID)
	}
	if p.Log.VerifierKey == "" {
		return nil, fmt.Errorf("a local manifest is verified against the log key of the policy, and policy %q has no log section: add log.verifierKey (the server's GET /api/v1/log/key)", p.Source)
	}
	return &localSource{root: root, adm: adm, key: p.Log.VerifierKey, name: "manifest " + s.Manifest,
		rel: export.Release{ID: adm.ID, LogIndex: rc.Index, Receipt: string(data), ManifestDigest: adm.Digest.String()}}, nil
}

func (l *localSource) String() string { return l.name }

func (l *localSource) Release(_ context.Context, id string) (export.Release, error) {
	return l.rel, nil
}

func (l *localSource) Manifest(context.Context, export.Release) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.adm.Canonical)), nil
}

func (l *localSource) File(_ context.Context, _ export.Release, path string) (io.ReadCloser, error) {
	p, err := l.root.Resolve(filepath.FromSlash(path))
	if err != nil {
		return nil, err
	}
	return regfile.Open(p)
}

func (l *localSource) VerifierKey(context.Context) (string, error) { return l.key, nil }
