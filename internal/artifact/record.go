package artifact

import (
	"encoding/json"
	"fmt"

	"github.com/slipway/actions/internal/digest"
)

// Role says what a record is in the chain from source to result.
type Role string

// The roles of a record. A record other than an artifact or a registry
// copy describes another record, named by its digest in Record.Describes.
//
// How a record's name and path are bound (Record.Validate; a path is always
// slash-separated, relative to the workspace, clean, without "..", and the
// file is read inside the workspace, never through a link out of it):
//
//   - artifact: a file, whose name is its path; or an OCI image layout
//     written by the build, named by its directory, whose path is the image
//     manifest's blob in it (NAME/blobs/sha256/<digest hex>); or an image
//     in a registry, with no path, named by its repository, whose URI is
//     NAME@sha256:<digest hex>.
//   - sbom, signature, receipt: a file, whose name is its path.
//   - provenance, attestation: a Sigstore bundle of an in-toto statement,
//     one record per subject it describes, named "PATH#SUBJECT" (the bundle
//     file and the subject's artifact name); Describes is that subject's
//     digest.
//   - registry: where the push stage put the artifact set, with no path:
//     named by the repository, URI NAME@sha256:<digest hex> of the pushed
//     manifest (or index), Digest that manifest's digest, Size its size,
//     MediaType its media type. It is a location, not evidence: nothing the
//     build signed or attested names it (they were made before the push),
//     and verify does not treat it as an artifact; the copy in the registry
//     is verified as an image (slipway verify --image URI) once it is signed
//     and attested there.
const (
	RoleArtifact    Role = "artifact"
	RoleSBOM        Role = "sbom"
	RoleSignature   Role = "signature"
	RoleProvenance  Role = "provenance"
	RoleAttestation Role = "attestation"
	RoleReceipt     Role = "receipt"
	RoleRegistry    Role = "registry"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleArtifact, RoleSBOM, RoleSignature, RoleProvenance, RoleAttestation, RoleReceipt, RoleRegistry:
		return true
	}
	return false
}

// Record is one file (or image) in the artifact set.
type Record struct {
	// Name is the subject name used in provenance and subjects files: the
	// slash-separated path relative to the workspace for files, the
	// repository for images.
	Name string `json:"name"`
	// Path locates the file relative to the workspace; empty for records
	// that live only in a registry.
	Path string `json:"path,omitempty"`
	// URI locates the record elsewhere, such as a pinned registry reference.
	URI string `json:"uri,omitempty"`
	// Digest is the SHA-256 of the content.
	Digest digest.SHA256 `json:"-"`
	// Size is the content length in bytes.
	Size int64 `json:"size"`
	// MediaType is the IANA or OCI media type of the content.
	MediaType string `json:"mediaType"`
	// Role says what the record is.
	Role Role `json:"role"`
	// Describes is the digest of the record this one is about (an SBOM's or
	// signature's subject); zero for artifacts.
	Describes digest.SHA256 `json:"-"`
}

// digestSet is the in-toto ResourceDescriptor digest form, {"sha256": "<hex>"}.
type digestSet struct {
	SHA256 string `json:"sha256"`
}

type recordJSON struct {
	Name      string     `json:"name"`
	Path      string     `json:"path,omitempty"`
	URI       string     `json:"uri,omitempty"`
	Digest    digestSet  `json:"digest"`
	Size      int64      `json:"size"`
	MediaType string     `json:"mediaType"`
	Role      Role       `json:"role"`
	Describes *digestSet `json:"describes,omitempty"`
}

// MarshalJSON writes digests as in-toto digest sets.
func (r Record) MarshalJSON() ([]byte, error) {
	j := recordJSON{
		Name: r.Name, Path: r.Path, URI: r.URI, Size: r.Size,
		MediaType: r.MediaType, Role: r.Role,
		Digest: digestSet{SHA256: r.Digest.Hex()},
	}
	if !r.Describes.IsZero() {
		j.Describes = &digestSet{SHA256: r.Describes.Hex()}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a record and checks its digests and role.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d, err := digest.ParseHex(j.Digest.SHA256)
	if err != nil {
		return fmt.Errorf("record %q: field \"digest.sha256\": %w", j.Name, err)
	}
	*r = Record{
		Name: j.Name, Path: j.Path, URI: j.URI, Digest: d, Size: j.Size,
		MediaType: j.MediaType, Role: j.Role,
	}
	if j.Describes != nil {
		if r.Describes, err = digest.ParseHex(j.Describes.SHA256); err != nil {
			return fmt.Errorf("record %q: field \"describes.sha256\": %w", j.Name, err)
		}
	}
	return nil
}

// Validate checks the fields every record needs.
func (r Record) Validate() error {
	switch {
	case r.Name == "":
		return fmt.Errorf("field \"name\" is empty: every record needs a subject name")
	case r.Digest.IsZero():
		return fmt.Errorf("record %q: field \"digest.sha256\" is missing", r.Name)
	case r.Size < 0:
		return fmt.Errorf("record %q: field \"size\" is negative (%d)", r.Name, r.Size)
	case !r.Role.Valid():
		return fmt.Errorf("record %q: field \"role\" is %q; want one of artifact, sbom, signature, provenance, attestation, receipt, registry", r.Name, r.Role)
	case r.Role != RoleArtifact && r.Role != RoleRegistry && r.Describes.IsZero():
		return fmt.Errorf("record %q: a %s record needs field \"describes\" (the digest of its subject)", r.Name, r.Role)
	}
	return r.checkBinding()
}
