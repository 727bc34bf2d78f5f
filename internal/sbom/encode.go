package sbom

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	"github.com/anchore/syft/syft/pkg"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/google/uuid"
	"github.com/spdx/tools-golang/spdx"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/version"
)

// binding is what ties a document to its subject, and makes it
// reproducible: the same subject, time and tools give the same bytes,
// wherever the workspace is.
type binding struct {
	subject digest.SHA256
	created time.Time
	// name is the subject's name in the document: its workspace-relative
	// path, or an image's reference.
	name string
	// needs are the packages the subject itself needs (the shared
	// libraries of an ELF file), its edges in the dependency graph.
	needs []pkg.Package
}

// documentID is a name-based (version 5) UUID for the document, derived
// from the subject's digest, the format and the creation time, so that a
// document made again with the same SOURCE_DATE_EPOCH is byte-identical
// while documents made at different times get different serial numbers.
func (b binding) documentID(f Format) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/slipway/actions/sbom?"+
		"format="+f.String()+"&subject="+b.subject.String()+"&created="+b.timestamp()))
}

func (b binding) timestamp() string { return b.created.UTC().Format(time.RFC3339) }

// encode writes s in format f to w, bound to its subject.
func encode(w io.Writer, s *syftsbom.SBOM, f Format, b binding) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var err error
	switch f.Name {
	case CycloneDXJSON:
		err = encodeCycloneDX(bw, s, f, b)
	case SPDXJSON:
		err = encodeSPDX(bw, s, f, b)
	default:
		err = fmt.Errorf("format %q has no encoder (internal error)", f.Name)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// encodeCycloneDX is syft's CycloneDX JSON encoder (cyclonedxjson) plus the
// subject's SHA-256 in metadata.component.hashes, slipway among the tools,
// and a reproducible serial number and timestamp.
func encodeCycloneDX(w io.Writer, s *syftsbom.SBOM, f Format, b binding) error {
	bom := cyclonedxhelpers.ToFormatModel(*s)
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		return fmt.Errorf("encoding CycloneDX: syft described no metadata.component for source %T (internal error)", s.Source.Metadata)
	}
	c := bom.Metadata.Component
	hashes := []cyclonedx.Hash{{Algorithm: cyclonedx.HashAlgoSHA256, Value: b.subject.Hex()}}
	if c.Hashes != nil {
		for _, h := range *c.Hashes {
			if h.Algorithm != cyclonedx.HashAlgoSHA256 {
				hashes = append(hashes, h)
			}
		}
	}
	c.Hashes = &hashes
	// syft names a file or directory source by a hash of the path it was
	// given, which is absolute: the workspace-relative name instead keeps
	// the document independent of where the workspace is. (An image's is a
	// hash of its image ID.)
	switch s.Source.Metadata.(type) {
	case source.FileMetadata, *source.FileMetadata, source.DirectoryMetadata, *source.DirectoryMetadata:
		id, err := artifact.IDByHash(b.name)
		if err != nil {
			return fmt.Errorf("encoding CycloneDX: naming subject %q: %w (internal error)", b.name, err)
		}
		c.BOMRef = string(id)
	}
	if len(b.needs) > 0 {
		var refs []string
		for _, p := range b.needs {
			refs = append(refs, bomRef(p))
		}
		slices.Sort(refs)
		deps := []cyclonedx.Dependency{{Ref: c.BOMRef, Dependencies: &refs}}
		if bom.Dependencies != nil {
			deps = append(deps, *bom.Dependencies...)
		}
		bom.Dependencies = &deps
	}
	bom.SerialNumber = b.documentID(f).URN()
	bom.Metadata.Timestamp = b.timestamp()
	if t := bom.Metadata.Tools; t != nil && t.Components != nil {
		*t.Components = append(*t.Components, cyclonedx.Component{
			Type: cyclonedx.ComponentTypeApplication, Name: "slipway", Version: toolVersion(),
		})
	}
	enc := cyclonedx.NewBOMEncoder(w, cyclonedx.BOMFileFormatJSON)
	enc.SetPretty(false)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, f.cycloneDXVersion()); err != nil {
		return fmt.Errorf("encoding CycloneDX %s: %w", f.Version, err)
	}
	return nil
}

// encodeSPDX is syft's SPDX 2.3 JSON encoder (spdxjson) plus the subject's
// SHA-256 as a checksum of the package the document DESCRIBES, slipway among
// the creators, and a reproducible namespace and creation time.
func encodeSPDX(w io.Writer, s *syftsbom.SBOM, f Format, b binding) error {
	doc := spdxhelpers.ToFormatModel(*s)
	if doc == nil {
		return fmt.Errorf("encoding SPDX: syft made no document (internal error)")
	}
	root, err := describedPackage(doc)
	if err != nil {
		return fmt.Errorf("encoding SPDX: %w (internal error)", err)
	}
	sums := []spdx.Checksum{{Algorithm: spdx.SHA256, Value: b.subject.Hex()}}
	for _, c := range root.PackageChecksums {
		if c.Algorithm != spdx.SHA256 {
			sums = append(sums, c)
		}
	}
	root.PackageChecksums = sums
	id := b.documentID(f).String()
	if i := len(doc.DocumentNamespace) - len(id); i > 0 {
		if _, err := uuid.Parse(doc.DocumentNamespace[i:]); err == nil {
			doc.DocumentNamespace = doc.DocumentNamespace[:i] + id
		}
	}
	if doc.CreationInfo != nil {
		doc.CreationInfo.Created = b.timestamp()
		doc.CreationInfo.Creators = append(doc.CreationInfo.Creators,
			spdx.Creator{CreatorType: "Tool", Creator: "slipway-" + toolVersion()})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(*doc); err != nil {
		return fmt.Errorf("encoding SPDX %s: %w", f.Version, err)
	}
	return nil
}

// describedPackage returns the package that SPDXRef-DOCUMENT DESCRIBES.
func describedPackage(doc *spdx.Document) (*spdx.Package, error) {
	for _, r := range doc.Relationships {
		if r == nil || r.RefA.ElementRefID != "DOCUMENT" || r.Relationship != "DESCRIBES" {
			continue
		}
		for _, p := range doc.Packages {
			if p != nil && p.PackageSPDXIdentifier == r.RefB.ElementRefID {
				return p, nil
			}
		}
		return nil, fmt.Errorf("the document DESCRIBES %q, which is not one of its packages", r.RefB.ElementRefID)
	}
	return nil, fmt.Errorf("no DOCUMENT DESCRIBES relationship")
}

// toolVersion is slipway's version as a tool version: the release version,
// the module version, or "devel".
func toolVersion() string {
	if version.Version != "" {
		return version.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
