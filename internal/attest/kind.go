package attest

import (
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/provenance"
)

// Kind is what an attestation says: the predicate-type input.
type Kind string

// The kinds of attestation, named as cosign's --type names them.
const (
	KindProvenance Kind = "slsaprovenance1"
	KindCycloneDX  Kind = "cyclonedx"
	KindSPDX       Kind = "spdx"
)

// Predicate types of SBOM statements.
const (
	CycloneDXPredicateType = "https://cyclonedx.org/bom"
	SPDXPredicateType      = "https://spdx.dev/Document"
	// SBOMReferencePredicateType is the predicate type of a statement that
	// attests an SBOM too large to inline by its digest; see docs/attest.md.
	SBOMReferencePredicateType = "https://slipway.dev/attestations/sbom-reference/v1"
)

// ParseKind parses the predicate-type input: a kind name or its predicate
// type URI. Empty means provenance.
func ParseKind(s string) (Kind, error) {
	switch strings.TrimSpace(s) {
	case "", string(KindProvenance), provenance.PredicateType:
		return KindProvenance, nil
	case string(KindCycloneDX), CycloneDXPredicateType:
		return KindCycloneDX, nil
	case string(KindSPDX), "spdxjson", SPDXPredicateType:
		return KindSPDX, nil
	}
	return "", fmt.Errorf("predicate type %q is not supported; use slsaprovenance1, cyclonedx or spdx", s)
}

// PredicateType is the statement's predicate type for an inlined predicate.
func (k Kind) PredicateType() string {
	switch k {
	case KindCycloneDX:
		return CycloneDXPredicateType
	case KindSPDX:
		return SPDXPredicateType
	}
	return provenance.PredicateType
}

// IsSBOM reports whether k attests an SBOM.
func (k Kind) IsSBOM() bool { return k == KindCycloneDX || k == KindSPDX }

// matchesMediaType reports whether an SBOM record's media type is of kind k.
func (k Kind) matchesMediaType(mt string) bool {
	mt = strings.ToLower(mt)
	switch k {
	case KindCycloneDX:
		return strings.Contains(mt, "cyclonedx")
	case KindSPDX:
		return strings.Contains(mt, "spdx")
	}
	return false
}

// defaultMediaType guesses an SBOM file's media type from its name.
func (k Kind) defaultMediaType(path string) string {
	xml := strings.HasSuffix(strings.ToLower(path), ".xml")
	switch {
	case k == KindCycloneDX && xml:
		return "application/vnd.cyclonedx+xml"
	case k == KindCycloneDX:
		return "application/vnd.cyclonedx+json"
	case k == KindSPDX && strings.HasSuffix(strings.ToLower(path), ".json"):
		return "application/spdx+json"
	}
	return "text/spdx"
}
