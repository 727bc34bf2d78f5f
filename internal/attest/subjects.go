package attest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// subjects returns the statement's subjects: the image; the subject file,
// with its digest from the manifest when the manifest lists it (it is not
// read then) or else from one pass over it; or every artifact of the
// manifest.
func (o *Options) subjects(ctx context.Context, m *artifact.Manifest, img *image) ([]artifact.Subject, error) {
	switch {
	case img != nil:
		return []artifact.Subject{img.subject}, nil
	case o.Subject != "" && m != nil:
		rec, ok := findRecord(m, artifact.RoleArtifact, o.rel(o.abs(o.Subject)))
		if !ok {
			return nil, exitcode.WithFile(exitcode.BadInputf("subject %q is not an artifact of manifest %q; give one of its artifacts, or leave manifest empty to attest any file", o.Subject, o.Manifest), o.Manifest)
		}
		return []artifact.Subject{{Name: rec.Name, Digest: rec.Digest}}, nil
	case o.Subject != "":
		path := o.abs(o.Subject)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("reading subject: %w; give the path of a file to attest", err)), o.Subject)
		}
		if !fi.Mode().IsRegular() {
			return nil, exitcode.WithFile(exitcode.BadInputf("subject %q is not a regular file; attest a file, or a manifest for a set of files", o.Subject), o.Subject)
		}
		d, _, err := digest.FileContext(ctx, path)
		if err != nil {
			return nil, exitcode.WithFile(exitcode.Infra(err), o.Subject)
		}
		return []artifact.Subject{{Name: subjectName(o, path), Digest: d}}, nil
	default:
		s := m.Subjects()
		if len(s) == 0 {
			return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q lists no artifacts; run \"slipway build\" with artifacts first", o.Manifest), o.Manifest)
		}
		return s, nil
	}
}

// subjectName is a bare subject's name: its workspace-relative path, or its
// base name when it lies outside the workspace.
func subjectName(o *Options, path string) string {
	if r := o.rel(path); r != path {
		return r
	}
	return filepath.Base(path)
}

// findRecord finds the record of role r whose path or name is rel.
func findRecord(m *artifact.Manifest, r artifact.Role, rel string) (artifact.Record, bool) {
	for _, rec := range m.ByRole(r) {
		if filepath.ToSlash(filepath.Clean(rec.Path)) == rel || rec.Name == rel {
			return rec, true
		}
	}
	return artifact.Record{}, false
}
