package sign

import (
	"context"
	"fmt"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gpgsign"
	"github.com/slipway/actions/internal/signing"
)

// signManifest signs every file artifact of the manifest and appends the
// signature records to it.
//
// Digests are taken from the manifest, not recomputed: "digests computed
// once" means the build's pass is the one pass, and re-hashing every
// artifact would double the stage's I/O. The size of each file is checked
// against the manifest, which catches a truncated or replaced file; a GPG
// signature must read the content anyway, and then the digest is checked
// too. The manifest is rewritten (atomically) only when every artifact was
// signed.
func signManifest(ctx context.Context, opts *Options, pending *signing.Pending, gs *gpgsign.Signer) ([]File, error) {
	path := opts.abs(opts.Manifest)
	m, err := artifact.ReadManifest(path)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%w; pass the manifest written by \"slipway build\"", err)), path)
	}
	arts := m.ByRole(artifact.RoleArtifact)
	var files []File
	for i := range arts {
		rec := arts[i]
		if rec.Path == "" {
			opts.Log.Warn("skipping an artifact that is not a file; sign images with the image input", "name", rec.Name, "uri", rec.URI)
			continue
		}
		p := opts.abs(rec.Path)
		if _, err := opts.inside(p); err != nil {
			return nil, fmt.Errorf("artifact %q of manifest %q: %w", rec.Name, path, err)
		}
		f, err := signFile(ctx, opts, pending, gs, target{name: rec.Name, path: p, bundle: p + BundleExtension, known: &rec})
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q lists no file artifacts to sign", path), path)
	}
	for _, f := range files {
		for _, r := range f.Records {
			m.Add(r)
		}
	}
	if err := m.WriteFile(path); err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("updating manifest %q: %w", path, err)), path)
	}
	return files, nil
}
