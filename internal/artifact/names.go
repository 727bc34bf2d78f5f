package artifact

import (
	"fmt"
	"path"
	"strings"

	"github.com/slipway/actions/internal/mediatype"
)

// CheckPath reports why p cannot be a record's path: a path is
// slash-separated, relative to the workspace and clean (no "..", ".", empty
// or trailing segments, no leading "/"), so that it names one file inside
// the workspace the same way for every reader.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("is empty")
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%q holds a NUL byte", p)
	case path.IsAbs(p):
		return fmt.Errorf("%q is absolute; a path is relative to the workspace (e.g. \"dist/app\")", p)
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("%q leaves the workspace", p)
	case path.Clean(p) != p || p == ".":
		return fmt.Errorf("%q is not a clean path (write it as %q, slash-separated, without \".\", \"..\" or empty segments)", p, path.Clean(p))
	}
	return nil
}

// checkBinding checks that the record's name and path (or URI) are bound
// as its role says (see the roles): a manifest nobody signed must not be
// able to report one file under another's name.
func (r Record) checkBinding() error {
	if r.Path != "" {
		if err := CheckPath(r.Path); err != nil {
			return fmt.Errorf("record %q: field \"path\" %v", r.Name, err)
		}
	}
	bad := func(want string) error {
		return fmt.Errorf("record %q: a %s record's name and path are bound: %s; the manifest was changed after the stage that wrote it, or was written by hand", r.Name, r.Role, want)
	}
	switch r.Role {
	case RoleArtifact:
		switch {
		case r.Path == "" && r.URI == "":
			return fmt.Errorf("record %q: an artifact needs field \"path\" (a file) or \"uri\" (an image in a registry)", r.Name)
		case r.Path == "":
			if want := r.Name + "@" + r.Digest.String(); r.URI != want {
				return bad(fmt.Sprintf("field \"uri\" is %q, want %q (the repository named, pinned by the record's digest)", r.URI, want))
			}
		case r.Path == r.Name:
		case r.MediaType == mediatype.OCIManifest || r.MediaType == mediatype.OCIIndex:
			if want := LayoutBlob(r.Name, r.Digest.Hex()); r.Path != want {
				return bad(fmt.Sprintf("field \"path\" is %q, want %q (the name itself, or for an OCI layout the image manifest's blob in it)", r.Path, want))
			}
			if err := CheckPath(r.Name); err != nil {
				return fmt.Errorf("record %q: field \"name\" of an OCI layout %v", r.Name, err)
			}
		default:
			return bad(fmt.Sprintf("field \"path\" is %q, want the name %q", r.Path, r.Name))
		}
	case RoleProvenance, RoleAttestation:
		if r.Path == "" {
			return fmt.Errorf("record %q: a %s record needs field \"path\" (its bundle file)", r.Name, r.Role)
		}
		if subject, ok := strings.CutPrefix(r.Name, r.Path+"#"); !ok || subject == "" {
			return bad(fmt.Sprintf("field \"name\" is %q, want %q followed by the name of the subject it describes", r.Name, r.Path+"#"))
		}
	case RoleRegistry:
		switch {
		case r.Path != "":
			return fmt.Errorf("record %q: a registry record has no field \"path\": it names a copy in a registry (field \"uri\")", r.Name)
		case r.URI != r.Name+"@"+r.Digest.String():
			return bad(fmt.Sprintf("field \"uri\" is %q, want %q (the repository named, pinned by the record's digest)", r.URI, r.Name+"@"+r.Digest.String()))
		}
	default: // sbom, signature, receipt
		if r.Path != "" && r.Path != r.Name {
			return bad(fmt.Sprintf("field \"path\" is %q, want the name %q", r.Path, r.Name))
		}
		if r.Role == RoleReceipt && !strings.HasSuffix(r.Name, ReceiptExt) {
			return fmt.Errorf("record %q: a receipt record's name ends in %q (a C2SP tlog-proof the log returned); rename the file or fix its role", r.Name, ReceiptExt)
		}
	}
	return nil
}

// LayoutBlob is the path of the blob with the given SHA-256 (hex) in the
// OCI image layout at dir.
func LayoutBlob(dir, hex string) string {
	return dir + "/blobs/sha256/" + hex
}
