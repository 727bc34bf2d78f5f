package sbom

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
)

// manifestFile is an artifact manifest, checked before cataloging so that a
// bad manifest fails before the expensive part.
type manifestFile struct {
	name string // as given, for messages
	path string // absolute
	dir  string // workspace
	// loaded is the manifest as read by loadManifest, before cataloging.
	loaded *artifact.Manifest
}

func loadManifest(name, dir string) (*manifestFile, error) {
	if name == "" {
		return nil, nil
	}
	path := absPath(name, dir)
	m, err := artifact.ReadManifest(path)
	if err != nil {
		hint := "give the manifest.json that \"slipway build\" wrote, or leave manifest empty"
		if errors.Is(err, fs.ErrNotExist) {
			hint = "run \"slipway build\" first, point manifest at its <output-dir>/manifest.json, or leave manifest empty"
		}
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q: %w; %s", name, err, hint), name)
	}
	return &manifestFile{name: name, path: path, dir: dir, loaded: m}, nil
}

// record is the manifest record of the document in res.
func (res *Result) record(workspace string) artifact.Record {
	n := workspaceName(res.OutputPath, workspace)
	return artifact.Record{
		Name:      n,
		Path:      n,
		Digest:    res.Digest,
		Size:      res.Size,
		MediaType: res.Format.MediaType(),
		Role:      artifact.RoleSBOM,
		Describes: res.SubjectDigest,
	}
}

// add records the document in the manifest and writes it back atomically.
// It re-reads the file first so that records another step added after
// loadManifest are kept.
func (mf *manifestFile) add(res *Result, log *slog.Logger) error {
	m, err := artifact.ReadManifest(mf.path)
	if err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("re-reading manifest %q: %w; was it changed while the SBOM was made?", mf.name, err)), mf.name)
	}
	if !describesArtifact(m, res) {
		log.Warn("the SBOM's subject is not an artifact of the manifest; recording it anyway",
			"manifest", mf.name, "subject", res.SubjectName, "digest", res.SubjectDigest.String())
	}
	m.Add(res.record(mf.dir))
	if err := m.WriteFile(mf.path); err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("updating manifest %q: %w", mf.name, err)), mf.name)
	}
	return nil
}

func describesArtifact(m *artifact.Manifest, res *Result) bool {
	for _, r := range m.ByRole(artifact.RoleArtifact) {
		if r.Digest == res.SubjectDigest {
			return true
		}
	}
	return false
}
