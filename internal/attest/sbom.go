package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
)

// sbomFile is an SBOM to attest: where it is and, when the manifest records
// it, its record.
type sbomFile struct {
	// path is absolute; name is the workspace-relative name used in errors
	// and in the reference predicate.
	path, name string
	record     *artifact.Record
}

// sbomPredicate decides between inlining and referencing from the file's
// size on disk, then returns the predicate type and predicate. An inlined
// SBOM is read once (and checked against its manifest record's digest on
// the way); a referenced one is not read at all when the manifest has its
// digest, and hashed in one streaming pass otherwise.
func sbomPredicate(ctx context.Context, f sbomFile, kind Kind, limit int64) (predicateType string, predicate []byte, err error) {
	fi, err := os.Stat(f.path)
	if err != nil {
		return "", nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("reading SBOM: %w; give the path of an SBOM written by \"slipway sbom\" or syft", err)), f.name)
	}
	if !fi.Mode().IsRegular() {
		return "", nil, exitcode.WithFile(exitcode.BadInputf("SBOM %q is not a regular file", f.name), f.name)
	}
	if fi.Size() > limit {
		p, err := sbomReference(ctx, f, kind, fi.Size())
		return SBOMReferencePredicateType, p, err
	}
	p, err := sbomInline(f, kind, limit)
	return kind.PredicateType(), p, err
}

// sbomInline reads the SBOM (at most limit bytes) and checks that it is a
// JSON document of the right format.
func sbomInline(f sbomFile, kind Kind, limit int64) ([]byte, error) {
	file, err := regfile.Open(f.path)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("opening SBOM: %w", err)), f.name)
	}
	defer file.Close()
	r := digest.NewReader(io.LimitReader(file, limit+1))
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading SBOM %q: %w", f.name, err)), f.name)
	}
	if int64(buf.Len()) > limit {
		return nil, exitcode.WithFile(exitcode.Failuref("SBOM %q grew while it was read; attest it once it is complete", f.name), f.name)
	}
	if f.record != nil && r.Digest() != f.record.Digest {
		return nil, exitcode.WithFile(exitcode.Failuref("SBOM %q has digest %s but the manifest records %s: it changed after the sbom stage; run \"slipway sbom\" again", f.name, r.Digest(), f.record.Digest), f.name)
	}
	if err := checkSBOM(buf.Bytes(), kind); err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("SBOM %q: %w", f.name, err)), f.name)
	}
	return buf.Bytes(), nil
}

// checkSBOM checks that doc is one JSON object of the format kind names.
func checkSBOM(doc []byte, kind Kind) error {
	if t := bytes.TrimLeft(doc, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("is not a JSON object; an inlined SBOM must be JSON (syft -o %s-json), or set sbom-inline-limit to 0 to attest it by digest", kind)
	}
	var head struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("is not valid JSON at byte %d: %v", se.Offset, err)
		}
		return fmt.Errorf("is not valid JSON: %v", err)
	}
	switch {
	case kind == KindCycloneDX && head.BOMFormat != "CycloneDX":
		if head.SPDXVersion != "" {
			return fmt.Errorf("is an SPDX document (spdxVersion %q), not CycloneDX; set predicate-type to spdx", head.SPDXVersion)
		}
		return fmt.Errorf("field \"bomFormat\" is %q, want \"CycloneDX\"; give a CycloneDX JSON SBOM", head.BOMFormat)
	case kind == KindSPDX && (len(head.SPDXVersion) < 5 || head.SPDXVersion[:5] != "SPDX-"):
		if head.BOMFormat != "" {
			return fmt.Errorf("is a %s document, not SPDX; set predicate-type to cyclonedx", head.BOMFormat)
		}
		return fmt.Errorf("field \"spdxVersion\" is %q, want \"SPDX-2.x\"; give an SPDX JSON SBOM", head.SPDXVersion)
	}
	return nil
}

// sbomReference builds the reference predicate; see docs/attest.md:
//
//	{"sbom": {"name": …, "digest": {"sha256": …}, "mediaType": …, "uri": …},
//	 "sbomPredicateType": "https://cyclonedx.org/bom", "size": 123}
func sbomReference(ctx context.Context, f sbomFile, kind Kind, size int64) ([]byte, error) {
	var d digest.SHA256
	rd := &intoto.ResourceDescriptor{Name: f.name, MediaType: kind.defaultMediaType(f.path)}
	if rec := f.record; rec != nil {
		if rec.Size != size {
			return nil, exitcode.WithFile(exitcode.Failuref("SBOM %q is %d bytes but the manifest records %d: it changed after the sbom stage; run \"slipway sbom\" again", f.name, size, rec.Size), f.name)
		}
		d, rd.Uri = rec.Digest, rec.URI
		if rec.MediaType != "" {
			rd.MediaType = rec.MediaType
		}
	} else {
		var n int64
		var err error
		if d, n, err = digest.FileContext(ctx, f.path); err != nil {
			return nil, exitcode.WithFile(exitcode.Infra(err), f.name)
		}
		if n != size {
			return nil, exitcode.WithFile(exitcode.Failuref("SBOM %q changed while it was read; attest it once it is complete", f.name), f.name)
		}
	}
	rd.Digest = map[string]string{"sha256": d.Hex()}
	js, err := protojson.Marshal(rd)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("encoding SBOM reference: %w", err))
	}
	var b bytes.Buffer
	b.WriteString(`{"sbom":`)
	if err := json.Compact(&b, js); err != nil {
		return nil, exitcode.Infra(err)
	}
	b.WriteString(`,"sbomPredicateType":`)
	writeJSONString(&b, kind.PredicateType())
	fmt.Fprintf(&b, `,"size":%d}`, size)
	return b.Bytes(), nil
}
