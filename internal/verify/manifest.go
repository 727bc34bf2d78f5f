package verify

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/slipway/actions/internal/artifact"
)

// Media types of bundle and signature records in a manifest.
var bundleMediaTypes = []string{
	"application/vnd.dev.sigstore.bundle.v0.3+json",
	"application/vnd.dev.sigstore.bundle+json;version=0.3",
	"application/pgp-signature",
}

// isBundle reports whether a manifest record is a Sigstore bundle or an
// OpenPGP signature, by media type or else by file name.
func isBundle(r artifact.Record) bool {
	if contains(bundleMediaTypes, r.MediaType) {
		return true
	}
	for _, suffix := range []string{".sigstore.json", ".sigstore", ".asc", ".sig"} {
		if strings.HasSuffix(r.Path, suffix) {
			return true
		}
	}
	return false
}

// ManifestSubjects returns a subject for every artifact record of m (a file,
// or an image when the record has only a URI), with
// the bundles and signatures the manifest lists as describing it (or, when
// it lists none, those next to the artifact) and the SBOM documents that
// describe it. Relative paths are resolved against dir.
func ManifestSubjects(m *artifact.Manifest, dir string) []Subject {
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, filepath.FromSlash(p))
	}
	var out []Subject
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		s := Subject{Name: a.Name, Path: resolve(a.Path), Digest: a.Digest, SBOMDir: dir}
		if a.Path == "" {
			s.Image = a.URI // an image in a registry, pinned by the push stage
		}
		for _, r := range m.Describing(a.Digest) {
			switch {
			case r.Role == artifact.RoleArtifact || r.Path == "":
			case isBundle(r):
				s.Bundles = append(s.Bundles, resolve(r.Path))
			case r.Role == artifact.RoleSBOM:
				s.SBOMs = append(s.SBOMs, r)
				// slipway attest writes an SBOM's attestation next to it.
				if att := resolve(r.Path) + ".intoto.sigstore.json"; fileExists(att) && !contains(s.Bundles, att) {
					s.Bundles = append(s.Bundles, att)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
