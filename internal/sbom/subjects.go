package sbom

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/fileset"
)

// ociManifestMediaType is the media type of an image artifact in a build
// manifest: its SBOM describes the image's OCI layout.
const ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"

// Subjects expands the "subject" input, a list, into the subjects to
// describe, in order and without repeats:
//
//   - an entry with a scheme (oci-layout:, registry:, file:, dir:) or a
//     plain path is one subject, as ParseSubject reads it (a directory stays
//     one subject);
//   - entries with glob metacharacters (* ? [ {) and "!GLOB" exclusions
//     are globs in the syntax of the build stage's artifacts (package
//     fileset): every file they select is a subject;
//   - no entry at all, with a manifest: every artifact of the manifest (an
//     image artifact as oci-layout:NAME).
//
// dir is the workspace; manifest is the "manifest" input (may be empty).
// Errors are exit-code errors (bad input: 2).
func Subjects(ctx context.Context, entries []string, manifest, dir string) ([]string, error) {
	if len(entries) == 0 {
		if manifest == "" {
			return nil, exitcode.BadInputf("no subject given; give subject (files, directories, globs, oci-layout:DIR or registry:REF) or manifest (to describe every artifact it lists)")
		}
		return manifestSubjects(manifest, dir)
	}
	var out, globs []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, e := range entries {
		if isGlob(e) {
			globs = append(globs, e)
			continue
		}
		add(e)
	}
	if len(globs) == 0 {
		return out, nil
	}
	patterns, err := fileset.Parse(dir, globs)
	if err != nil {
		return nil, exitcode.BadInputf("subject: %w", err)
	}
	files, err := fileset.Resolve(ctx, dir, patterns, fileset.Options{})
	if err != nil {
		if errors.Is(err, fileset.ErrInput) {
			return nil, exitcode.BadInputf("subject: %w", err)
		}
		return nil, exitcode.Infraf("subject: %w", err)
	}
	for _, f := range files {
		add(SchemeFile + f.Name)
	}
	return out, nil
}

// isGlob reports whether a subject entry is a glob or an exclusion rather
// than one subject.
func isGlob(e string) bool {
	if strings.HasPrefix(e, "!") {
		return true
	}
	if _, ok := cutScheme(e, SchemeOCILayout, schemeOCIDir, SchemeRegistry, SchemeFile, SchemeDir); ok {
		return false
	}
	return strings.ContainsAny(e, "*?[{")
}

// manifestSubjects lists every artifact of the manifest as a subject.
func manifestSubjects(manifest, dir string) ([]string, error) {
	mf, err := loadManifest(manifest, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range mf.loaded.ByRole(artifact.RoleArtifact) {
		switch {
		case a.MediaType == ociManifestMediaType:
			out = append(out, SchemeOCILayout+a.Name)
		case a.Path != "":
			out = append(out, SchemeFile+a.Path)
		}
	}
	if len(out) == 0 {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("manifest %q lists no artifacts to describe; give subject", manifest)), manifest)
	}
	return out, nil
}
