package sbom

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	stfile "github.com/anchore/stereoscope/pkg/file"
	synart "github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/source"
	"github.com/mholt/archives"
	godigest "github.com/opencontainers/go-digest"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
)

// recordedFile is a syft source for a file subject whose SHA-256 the build
// manifest already holds: it describes the file exactly as syft's file
// source does (same ID, name, version and digest, so the same document), but
// takes the digest from the manifest instead of reading the whole file
// twice (syft's file source hashes it for its digests and once more for its
// ID). Only the first bytes are read here, for the MIME type; catalogers
// then read what they read from any file.
//
// Archives (by name, as syft decides) are not served here: syft unpacks them
// to catalog their content, and that needs its own file source.
type recordedFile struct {
	path   string // absolute
	alias  source.Alias
	digest digest.SHA256
	mime   string
	files  *realFiles
}

var _ source.Source = (*recordedFile)(nil)

// knownDigest is what the manifest records about the subject file.
type knownDigest struct {
	digest digest.SHA256
	size   int64
}

// newRecordedFile opens the source after checking that the file still has
// the size the manifest records.
func newRecordedFile(path string, alias source.Alias, known knownDigest) (*recordedFile, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != known.size {
		return nil, fmt.Errorf("it is %d bytes, the manifest records %d: it changed after the build; rebuild, or describe it without manifest", fi.Size(), known.size)
	}
	return &recordedFile{
		path: path, alias: alias, digest: known.digest, mime: stfile.MIMEType(f),
		files: newRealFiles(map[string]string{"/" + filepath.Base(path): path}),
	}, nil
}

// ID is syft's file source ID: the SHA-256 of "sha256:HEX[:NAME@VERSION]".
func (s *recordedFile) ID() synart.ID {
	info := s.digest.String()
	if !s.alias.IsEmpty() {
		info += fmt.Sprintf(":%s@%s", s.alias.Name, s.alias.Version)
	}
	return synart.ID(strings.TrimPrefix(godigest.SHA256.FromString(info).String(), "sha256:"))
}

func (s *recordedFile) Describe() source.Description {
	name, version := filepath.Base(s.path), s.digest.String()
	if s.alias.Name != "" {
		name = s.alias.Name
	}
	if s.alias.Version != "" {
		version = s.alias.Version
	}
	return source.Description{
		ID: string(s.ID()), Name: name, Version: version, Supplier: s.alias.Supplier,
		Metadata: source.FileMetadata{
			Path:     s.path,
			Digests:  []file.Digest{{Algorithm: "sha256", Value: s.digest.Hex()}},
			MIMEType: s.mime,
		},
	}
}

func (s *recordedFile) FileResolver(source.Scope) (file.Resolver, error) { return s.files, nil }

func (s *recordedFile) Close() error { return nil }

// isArchiveName reports whether syft's file source would unpack the file:
// mholt/archives recognizes an extractable archive by its name, after
// syft's compound-extension aliases (syft internal/file/archive_aliases.go).
func isArchiveName(ctx context.Context, path string) bool {
	ext := filepath.Ext(path)
	if full, ok := map[string]string{".tgz": ".tar.gz", ".tbz2": ".tar.bz2", ".txz": ".tar.xz", ".tlz": ".tar.lz", ".tzst": ".tar.zst"}[ext]; ok {
		path = strings.TrimSuffix(path, ext) + full
	}
	f, _, err := archives.Identify(ctx, path, nil)
	if err != nil {
		return false
	}
	_, ok := f.(archives.Extractor)
	return ok
}

// recordedDigest finds the artifact record of the file subject at path (an
// absolute path) in the manifest; ok is false when the manifest has none.
func (mf *manifestFile) recordedDigest(path string) (knownDigest, bool) {
	for _, r := range mf.loaded.ByRole(artifact.RoleArtifact) {
		if r.Path != "" && absPath(filepath.FromSlash(r.Path), mf.dir) == path {
			return knownDigest{digest: r.Digest, size: r.Size}, true
		}
	}
	return knownDigest{}, false
}

// openRecorded opens a file subject with its recorded digest, or returns nil
// when it cannot be (no manifest, not recorded, or an archive).
func openRecorded(ctx context.Context, subj Subject, alias source.Alias, mf *manifestFile) (*recordedFile, error) {
	if mf == nil || subj.Kind != KindFile || isArchiveName(ctx, subj.Path) {
		return nil, nil
	}
	known, ok := mf.recordedDigest(subj.Path)
	if !ok {
		return nil, nil
	}
	src, err := newRecordedFile(subj.Path, alias, known)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, badSubject(subj, err)
		}
		return nil, exitcode.WithFile(exitcode.BadInputf("subject %q: %w", subj.Path, err), subj.Path)
	}
	return src, nil
}
