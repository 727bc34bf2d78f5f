package dispatch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/workspace"
)

// CheckGlobs refuses an output glob that is not a clean relative pattern
// (none may leave the job's directory) or that does not parse.
func CheckGlobs(globs []string) error {
	for _, g := range globs {
		if err := artifact.CheckPath(filepath.ToSlash(g)); err != nil {
			return fmt.Errorf("output glob %v; give a pattern relative to the job's directory", err)
		}
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("output glob %q: %w", g, err)
		}
	}
	return nil
}

// collect finds the files the globs match in the job's directory dir
// (inside workdir), reads each once for its digest and size, and returns
// their artifact records, named by their path relative to workdir, sorted.
// With all, a glob that matches no regular file is an error (a failed
// job's outputs are collected without: what it left); a match that leads
// outside workdir (through a symbolic link) is always one.
func collect(ctx context.Context, workdir, dir string, globs []string, all bool) ([]artifact.Record, error) {
	root, err := workspace.New(workdir)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var recs []artifact.Record
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(g)))
		if err != nil {
			return nil, fmt.Errorf("output glob %q: %w", g, err)
		}
		found := 0
		for _, m := range matches {
			rel, err := filepath.Rel(workdir, m)
			if err != nil || !filepath.IsLocal(rel) {
				return nil, fmt.Errorf("output %q is outside the workdir %q", m, workdir)
			}
			real, err := root.Resolve(rel)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w; outputs are files inside the workdir", rel, err)
			}
			fi, err := os.Stat(real)
			if err != nil {
				return nil, fmt.Errorf("output %q: %w", rel, err)
			}
			if fi.IsDir() {
				continue
			}
			found++
			name := filepath.ToSlash(rel)
			if seen[name] {
				continue
			}
			seen[name] = true
			rec, err := hashOutput(ctx, real, name)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		if found == 0 && all {
			return nil, fmt.Errorf("output glob %q matched no file in the job's directory %q: check the glob (relative to the directory the command ran in) and what the job wrote", g, dir)
		}
	}
	slices.SortFunc(recs, func(a, b artifact.Record) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return recs, nil
}

// hashOutput reads the file once: its digest, size and media type.
func hashOutput(ctx context.Context, path, name string) (artifact.Record, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return artifact.Record{}, fmt.Errorf("output %q: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return artifact.Record{}, fmt.Errorf("reading output %q: %w", name, err)
	}
	head = head[:n]
	sum := digest.New()
	sum.Write(head)
	if _, err := io.Copy(sum, digest.ContextReader(ctx, f)); err != nil {
		return artifact.Record{}, fmt.Errorf("reading output %q: %w", name, err)
	}
	return artifact.Record{Name: name, Path: name, Digest: sum.Digest(), Size: sum.Size(),
		MediaType: mediatype.Detect(name, head), Role: artifact.RoleArtifact}, nil
}
