package policy

import (
	"crypto"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// The document type of a trust policy.
const (
	APIVersion = "slipway.dev/v1"
	Kind       = "TrustPolicy"
)

// Well-known predicate types, for messages and defaults.
const (
	// SLSAProvenanceV1 is the SLSA provenance v1 predicate type.
	SLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// CycloneDX is the CycloneDX SBOM predicate type (in-toto attestation
	// spec); versioned variants ("https://cyclonedx.org/bom/v1.6") exist.
	CycloneDX = "https://cyclonedx.org/bom"
	// SPDX is the SPDX SBOM predicate type; versioned variants
	// ("https://spdx.dev/Document/v2.3") exist.
	SPDX = "https://spdx.dev/Document"
	// SBOMReference is the predicate type of Slipway's attestation of an
	// SBOM too large to inline: the predicate names the SBOM by digest and
	// its own predicate type (sbomPredicateType). It is accepted wherever
	// that SBOM predicate type is.
	SBOMReference = "https://slipway.dev/attestations/sbom-reference/v1"
)

// TlogMode says whether bundles must carry transparency log entries.
type TlogMode string

// The transparency log modes.
const (
	// TlogOff ignores transparency log entries: nothing is checked against a
	// log. The default.
	TlogOff TlogMode = "off"
	// TlogOptional verifies the entries a bundle carries (inclusion proof or
	// promise against the trusted root's logs) and accepts bundles with none.
	TlogOptional TlogMode = "optional"
	// TlogRequired rejects a bundle without enough verified entries.
	TlogRequired TlogMode = "required"
)

// Policy is a parsed, validated trust policy with every file it names
// loaded. It is immutable once returned by Parse or Load.
type Policy struct {
	// Source is where the policy was read from (its path), for messages.
	Source string
	// Name is the policy's optional name.
	Name string
	// Keys are trusted public keys for Sigstore bundles signed with a key.
	Keys []Key
	// Identities are trusted keyless (Fulcio certificate) identities.
	Identities []Identity
	// GPGKeys are trusted OpenPGP public keys for detached signatures.
	GPGKeys []GPGKey
	// Builders are the allowed SLSA builder IDs.
	Builders []Builder
	// SourceRepositories are the allowed source repositories, normalized
	// (see ParseRepository).
	SourceRepositories []string
	// RequiredPredicateTypes must each be present among the verified
	// attestations of every subject.
	RequiredPredicateTypes []string
	// AllowedPredicateTypes may be present besides the required ones.
	AllowedPredicateTypes []string
	// MaxAge is the oldest a signature or provenance may be; 0 means no
	// limit.
	MaxAge time.Duration
	// TrustedRootPath is the trusted root file, "" when none.
	TrustedRootPath string
	// TrustedRoot holds the certificate authorities, transparency logs and
	// timestamp authorities of a (private) Sigstore; nil when none.
	TrustedRoot *root.TrustedRoot
	// Tlog says how transparency log entries are treated.
	Tlog TlogMode
	// Thresholds are the minimum counts of verified log entries and
	// timestamps.
	Thresholds Thresholds
	// Uploaders say who may publish which source repositories to the
	// control plane (see AllowUpload); none lets any service token with
	// the upload scope publish, and no OIDC identity.
	Uploaders []Uploader
	// Dispatch says which Slurm resources the releases of which source
	// repositories may use (see CheckDispatch); none lets no release be
	// dispatched by the control plane.
	Dispatch []DispatchRule
	// Log is the control-plane transparency log whose receipts verify
	// checks (the "log" section).
	Log Log
	// Tests says what a subject's verified test results must show; nil
	// when the policy has no "tests" section.
	Tests *Tests
	// Vulnerabilities says what a subject's verified vulnerability scan
	// must show; nil when the policy has no "vulnerabilities" section.
	Vulnerabilities *Vulnerabilities
}

// Thresholds are the minimum numbers of independent confirmations a
// Sigstore bundle must carry.
type Thresholds struct {
	// TlogEntries is the number of verified transparency log entries needed
	// when the log is used (tlog required, or optional and present). At
	// least 1.
	TlogEntries int
	// ObserverTimestamps is the number of verified timestamps (log
	// integrated times and RFC 3161 timestamps) every bundle needs. Keyless
	// bundles always need at least 1: their short-lived certificate is
	// checked at that time.
	ObserverTimestamps int
	// SignedCertificateTimestamps is the number of verified certificate
	// transparency SCTs a keyless certificate needs.
	SignedCertificateTimestamps int
}

// Key is a trusted public key.
type Key struct {
	Name      string
	PublicKey crypto.PublicKey
	// Fingerprint is "SHA256:" and the unpadded base64 SHA-256 of the
	// key's DER SubjectPublicKeyInfo (the form of cosign's key hint).
	Fingerprint string
}

// Identity is a trusted keyless signer: the OIDC issuer and the subject
// (the certificate's subject alternative name) Fulcio certified.
type Identity struct {
	Name string
	// Exactly one of Issuer and IssuerRegExp is set.
	Issuer       string
	IssuerRegExp *regexp.Regexp
	// Exactly one of Subject and SubjectRegExp is set.
	Subject       string
	SubjectRegExp *regexp.Regexp
}

// GPGKey is a trusted OpenPGP public key (or keyring).
type GPGKey struct {
	Name string
	// Entities are the keys read from the armored key block.
	Entities openpgp.EntityList
	// Fingerprints are the primary key fingerprints, upper-case hex.
	Fingerprints []string
}

// Builder is an allowed SLSA builder ID: an exact ID, or a regular
// expression that must match the whole ID.
type Builder struct {
	ID       string
	IDRegExp *regexp.Regexp
}

// String returns the rule as written in the policy.
func (b Builder) String() string {
	if b.IDRegExp != nil {
		return "idRegExp " + unanchor(b.IDRegExp.String())
	}
	return b.ID
}

// Match reports whether id is allowed by b.
func (b Builder) Match(id string) bool {
	if b.IDRegExp != nil {
		return b.IDRegExp.MatchString(id)
	}
	return id == b.ID
}

// MatchBuilder returns the index of the first builder rule that allows id.
func (p *Policy) MatchBuilder(id string) (int, bool) {
	for i, b := range p.Builders {
		if b.Match(id) {
			return i, true
		}
	}
	return -1, false
}

// MatchSource returns the index of the allowed source repository that uri
// names, comparing normalized forms (see ParseRepository). A uri that
// ParseRepository refuses matches nothing; the error says why.
func (p *Policy) MatchSource(uri string) (int, error) {
	n, err := ParseRepository(uri)
	if err != nil {
		return -1, err
	}
	return slices.Index(p.SourceRepositories, n), nil
}

// RequiresProvenance reports whether every subject needs SLSA v1
// provenance: the policy requires that predicate type, or constrains
// builders or source repositories, which only provenance can satisfy.
func (p *Policy) RequiresProvenance() bool {
	return len(p.Builders) > 0 || len(p.SourceRepositories) > 0 ||
		slices.Contains(p.RequiredPredicateTypes, SLSAProvenanceV1)
}

// PredicateTypeAllowed reports whether an attestation of predicate type t is
// acceptable: it is required, allowed, SLSA provenance when the policy
// constrains builders or sources, or a test result or vulnerability scan
// when the policy has a tests or vulnerabilities section to judge it by.
func (p *Policy) PredicateTypeAllowed(t string) bool {
	if slices.Contains(p.RequiredPredicateTypes, t) || slices.Contains(p.AllowedPredicateTypes, t) {
		return true
	}
	switch t {
	case SLSAProvenanceV1:
		return p.RequiresProvenance()
	case TestResultV01:
		return p.Tests != nil
	case VulnsV01:
		return p.Vulnerabilities != nil
	}
	return false
}

// AcceptedPredicateTypes lists the predicate types PredicateTypeAllowed
// accepts, for messages.
func (p *Policy) AcceptedPredicateTypes() []string {
	out := slices.Clone(p.RequiredPredicateTypes)
	for _, t := range p.AllowedPredicateTypes {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, t := range []string{SLSAProvenanceV1, TestResultV01, VulnsV01} {
		if p.PredicateTypeAllowed(t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// IsSBOMPredicate reports whether t is a CycloneDX or SPDX predicate type,
// versioned or not.
func IsSBOMPredicate(t string) bool {
	for _, base := range []string{CycloneDX, SPDX} {
		if t == base || len(t) > len(base)+1 && t[:len(base)+1] == base+"/" {
			return true
		}
	}
	return false
}

// Match reports whether a certificate issued for subject by the OIDC issuer
// issuer is this identity; the error says which part differs.
func (id Identity) Match(issuer, subject string) error {
	switch {
	case id.IssuerRegExp != nil && !id.IssuerRegExp.MatchString(issuer):
		return fmt.Errorf("issuer %q does not match issuerRegExp %q", issuer, unanchor(id.IssuerRegExp.String()))
	case id.IssuerRegExp == nil && issuer != id.Issuer:
		return fmt.Errorf("issuer %q is not %q", issuer, id.Issuer)
	case id.SubjectRegExp != nil && !id.SubjectRegExp.MatchString(subject):
		return fmt.Errorf("subject %q does not match subjectRegExp %q", subject, unanchor(id.SubjectRegExp.String()))
	case id.SubjectRegExp == nil && subject != id.Subject:
		return fmt.Errorf("subject %q is not %q", subject, id.Subject)
	}
	return nil
}

// MatchIdentity returns the first identity that issuer and subject match.
func (p *Policy) MatchIdentity(issuer, subject string) (Identity, bool) {
	for _, id := range p.Identities {
		if id.Match(issuer, subject) == nil {
			return id, true
		}
	}
	return Identity{}, false
}
