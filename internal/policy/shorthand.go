package policy

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/slipway/actions/internal/regfile"
)

// Signer is a trust policy given the way cosign's verify commands take it
// on the command line (cosign verify-blob --key, --certificate-identity,
// …) instead of as a policy file: the signers it names, a trusted root,
// and whether the transparency log is ignored. Every field is optional, but
// at least one signer (Key, GPGKey, an identity) must be set.
type Signer struct {
	// Key is the path of a PEM public key (cosign.pub).
	Key string
	// GPGKey is the path of an armored OpenPGP public key.
	GPGKey string
	// A keyless signer: the certificate's subject (exact or a regular
	// expression matching all of it) and its OIDC issuer (likewise).
	Identity, IdentityRegExp string
	Issuer, IssuerRegExp     string
	// TrustedRoot is the path of a Sigstore trusted_root.json.
	TrustedRoot string
	// IgnoreTlog accepts Sigstore bundles without checking transparency log
	// entries (cosign's --insecure-ignore-tlog). Without it a key or
	// identity needs a verified log entry, as cosign needs one.
	IgnoreTlog bool
}

// The flag names of Signer's fields, as cosign spells them: errors name
// these, and the signers of the policy are named after them.
const (
	FlagKey            = "key"
	FlagGPGKey         = "gpg-key"
	FlagIdentity       = "certificate-identity"
	FlagIdentityRegExp = "certificate-identity-regexp"
	FlagIssuer         = "certificate-oidc-issuer"
	FlagIssuerRegExp   = "certificate-oidc-issuer-regexp"
	FlagTrustedRoot    = "trusted-root"
	FlagIgnoreTlog     = "insecure-ignore-tlog"
)

// IsZero reports whether s names nothing at all.
func (s Signer) IsZero() bool { return s == Signer{} }

// FlagError is a problem with one flag of a Signer.
type FlagError struct {
	Flag string
	Msg  string
}

func (e *FlagError) Error() string { return fmt.Sprintf("--%s: %s", e.Flag, e.Msg) }

// FromSigner returns the policy s describes: exactly the policy of the
// YAML document with s's key as keys[0] (name "key"), its OpenPGP key as
// gpgKeys[0] (name "gpg-key"), its identity as identities[0] (name
// "certificate-identity"), its trusted root, and "tlog: required" for a
// key or identity unless IgnoreTlog ("tlog: off" otherwise). It is
// compiled by the same code as a policy file, so it means the same. Relative
// paths are relative to dir. Every problem is reported, each a *FlagError.
func FromSigner(s Signer, dir string) (*Policy, error) {
	var errs []error
	bad := func(flag, format string, a ...any) {
		errs = append(errs, &FlagError{Flag: flag, Msg: fmt.Sprintf(format, a...)})
	}
	read := func(flag, path, what string) string {
		if path == "" {
			return ""
		}
		if strings.Contains(path, "://") {
			bad(flag, "%q is a URI; give the path of a %s file (for a KMS key, export its public key with \"cosign public-key --key URI > cosign.pub\")", path, what)
			return ""
		}
		b, err := regfile.ReadAll(abs(dir, path), MaxFileSize)
		if err != nil {
			bad(flag, "reading %q: %v; give the path of a %s file", path, err, what)
			return ""
		}
		return string(b)
	}
	sigstore := s.Key != "" || s.Identity != "" || s.IdentityRegExp != ""
	keyless := s.Identity != "" || s.IdentityRegExp != "" || s.Issuer != "" || s.IssuerRegExp != ""
	switch {
	case s.IsZero() || !sigstore && !keyless && s.GPGKey == "":
		bad(FlagKey, "no signer is given; give --%s (a PEM public key), --%s (an armored OpenPGP key), or --%s with --%s, or a policy file", FlagKey, FlagGPGKey, FlagIdentity, FlagIssuer)
	case s.Identity != "" && s.IdentityRegExp != "":
		bad(FlagIdentityRegExp, "is given with --%s; keep one", FlagIdentity)
	case s.Issuer != "" && s.IssuerRegExp != "":
		bad(FlagIssuerRegExp, "is given with --%s; keep one", FlagIssuer)
	case keyless && s.Identity == "" && s.IdentityRegExp == "":
		bad(FlagIdentity, "is missing: an OIDC issuer alone trusts everyone it certifies; give the certificate subject with --%s or --%s", FlagIdentity, FlagIdentityRegExp)
	case keyless && s.Issuer == "" && s.IssuerRegExp == "":
		bad(FlagIssuer, "is missing: give the OIDC issuer of the certificate with --%s or --%s (e.g. https://token.actions.githubusercontent.com)", FlagIssuer, FlagIssuerRegExp)
	case keyless && s.TrustedRoot == "":
		bad(FlagTrustedRoot, "is missing: a keyless identity needs the trusted root holding the Fulcio certificate authority (trusted_root.json)")
	case sigstore && !s.IgnoreTlog && s.TrustedRoot == "":
		bad(FlagTrustedRoot, "is missing: the transparency log is checked, as cosign does, and its key is in a trusted root (trusted_root.json); give --%s, or --%s to accept signatures without a log entry", FlagTrustedRoot, FlagIgnoreTlog)
	case !sigstore && (s.IgnoreTlog || s.TrustedRoot != ""):
		bad(FlagTrustedRoot, "--%s and --%s apply to Sigstore signers; give --%s or --%s, or drop them", FlagTrustedRoot, FlagIgnoreTlog, FlagKey, FlagIdentity)
	}
	d := &document{APIVersion: APIVersion, Kind: Kind}
	if pem := read(FlagKey, s.Key, "PEM public key (cosign.pub)"); pem != "" {
		d.Keys = []keyDoc{{Name: FlagKey, PEM: pem}}
	}
	if armored := read(FlagGPGKey, s.GPGKey, "armored OpenPGP public key (gpg --armor --export)"); armored != "" {
		d.GPGKeys = []gpgKeyDoc{{Name: FlagGPGKey, Armored: armored}}
	}
	if keyless {
		d.Identities = []identityDoc{{Name: FlagIdentity, Subject: s.Identity, SubjectRegExp: s.IdentityRegExp, Issuer: s.Issuer, IssuerRegExp: s.IssuerRegExp}}
	}
	trustedRoot := read(FlagTrustedRoot, s.TrustedRoot, "Sigstore trusted root (trusted_root.json)")
	if trustedRoot != "" {
		d.TrustedRoot = abs(dir, s.TrustedRoot)
	}
	if sigstore && !s.IgnoreTlog {
		d.Tlog = string(TlogRequired)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c := &compiler{file: &ast.File{}, opts: Options{
		Name: s.describe(),
		ReadFile: func(string) ([]byte, error) { // only the trusted root, read above
			return []byte(trustedRoot), nil
		},
	}}
	p := c.compile(d)
	for _, err := range c.errs {
		var e *Error
		if errors.As(err, &e) {
			errs = append(errs, &FlagError{Flag: flagOf(e.Field), Msg: e.Msg})
		} else {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// describe names the policy in reports: the flags that made it.
func (s Signer) describe() string {
	var parts []string
	add := func(flag, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("--%s %s", flag, v))
		}
	}
	add(FlagKey, s.Key)
	add(FlagGPGKey, s.GPGKey)
	add(FlagIdentity, s.Identity)
	add(FlagIdentityRegExp, s.IdentityRegExp)
	add(FlagIssuer, s.Issuer)
	add(FlagIssuerRegExp, s.IssuerRegExp)
	add(FlagTrustedRoot, s.TrustedRoot)
	if s.IgnoreTlog {
		parts = append(parts, "--"+FlagIgnoreTlog)
	}
	return "command-line policy (" + strings.Join(parts, " ") + ")"
}

// flagOf names the flag behind a field of the document FromSigner builds.
func flagOf(field string) string {
	for _, m := range []struct{ prefix, flag string }{
		{"keys[0]", FlagKey},
		{"gpgKeys[0]", FlagGPGKey},
		{"identities[0].subjectRegExp", FlagIdentityRegExp},
		{"identities[0].issuerRegExp", FlagIssuerRegExp},
		{"identities[0].issuer", FlagIssuer},
		{"identities", FlagIdentity},
		{"trustedRoot", FlagTrustedRoot},
		{"tlog", FlagTrustedRoot},
	} {
		if strings.HasPrefix(field, m.prefix) {
			return m.flag
		}
	}
	return FlagKey
}

func abs(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}
