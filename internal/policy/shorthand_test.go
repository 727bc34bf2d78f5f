package policy_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

// signerDir writes a key, an OpenPGP key, a trusted root and a private key
// into a fresh directory.
func signerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, pub := policytest.NewKeypair(t)
	policytest.WriteFile(t, dir, "cosign.pub", pub)
	_, gpgPub := policytest.NewGPGKey(t, "maintainer")
	policytest.WriteFile(t, dir, "maintainer.asc", gpgPub)
	policytest.WriteFile(t, dir, "trusted_root.json", policytest.NewSigstore(t).TrustedRootJSON(t))
	policytest.WriteFile(t, dir, "private.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	return dir
}

// TestFromSignerIsTheYAMLPolicy checks that each flag combination compiles
// to exactly the policy of the YAML document it stands for.
func TestFromSignerIsTheYAMLPolicy(t *testing.T) {
	t.Parallel()
	dir := signerDir(t)
	head := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\n"
	tests := []struct {
		name   string
		signer policy.Signer
		yaml   string
	}{
		{"key, log ignored", policy.Signer{Key: "cosign.pub", IgnoreTlog: true},
			"keys: [{name: key, path: cosign.pub}]\n"},
		{"key, log required", policy.Signer{Key: "cosign.pub", TrustedRoot: "trusted_root.json"},
			"keys: [{name: key, path: cosign.pub}]\ntrustedRoot: trusted_root.json\ntlog: required\n"},
		{"gpg key", policy.Signer{GPGKey: "maintainer.asc"},
			"gpgKeys: [{name: gpg-key, path: maintainer.asc}]\n"},
		{"identity", policy.Signer{Identity: "https://github.com/o/r/.github/workflows/r.yml@refs/tags/v1", Issuer: "https://token.actions.githubusercontent.com", TrustedRoot: "trusted_root.json"},
			"identities: [{name: certificate-identity, subject: \"https://github.com/o/r/.github/workflows/r.yml@refs/tags/v1\", issuer: \"https://token.actions.githubusercontent.com\"}]\ntrustedRoot: trusted_root.json\ntlog: required\n"},
		{"identity regexps, log ignored", policy.Signer{IdentityRegExp: `https://github\.com/o/.*`, IssuerRegExp: `https://token\..*`, TrustedRoot: "trusted_root.json", IgnoreTlog: true},
			"identities: [{name: certificate-identity, subjectRegExp: 'https://github\\.com/o/.*', issuerRegExp: 'https://token\\..*'}]\ntrustedRoot: trusted_root.json\n"},
		{"every signer", policy.Signer{Key: "cosign.pub", GPGKey: "maintainer.asc", Identity: "a@example.com", Issuer: "https://issuer", TrustedRoot: "trusted_root.json"},
			"keys: [{name: key, path: cosign.pub}]\ngpgKeys: [{name: gpg-key, path: maintainer.asc}]\nidentities: [{name: certificate-identity, subject: a@example.com, issuer: \"https://issuer\"}]\ntrustedRoot: trusted_root.json\ntlog: required\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := policy.FromSigner(tc.signer, dir)
			if err != nil {
				t.Fatalf("FromSigner() = %v", err)
			}
			path := policytest.WriteFile(t, t.TempDir(), "policy.yaml", []byte(head+tc.yaml))
			want, err := policy.Parse([]byte(head+tc.yaml), policy.Options{Name: path, Dir: dir})
			if err != nil {
				t.Fatalf("Parse(equivalent YAML) = %v", err)
			}
			if g, w := summary(got), summary(want); g != w {
				t.Errorf("FromSigner() =\n%s\nthe YAML policy is\n%s", g, w)
			}
			if !reflect.DeepEqual(got.Keys, want.Keys) || !reflect.DeepEqual(got.Identities, want.Identities) {
				t.Errorf("keys or identities differ: %+v / %+v, %+v / %+v", got.Keys, want.Keys, got.Identities, want.Identities)
			}
			if !strings.HasPrefix(got.Source, "command-line policy (--") {
				t.Errorf("Source = %q, want it to name the flags", got.Source)
			}
		})
	}
}

// summary renders everything a policy decides with, for comparison.
func summary(p *policy.Policy) string {
	var b strings.Builder
	for _, k := range p.Keys {
		fmt.Fprintf(&b, "key %s %s\n", k.Name, k.Fingerprint)
	}
	for _, id := range p.Identities {
		fmt.Fprintf(&b, "identity %s %q %v %q %v\n", id.Name, id.Issuer, id.IssuerRegExp, id.Subject, id.SubjectRegExp)
	}
	for _, g := range p.GPGKeys {
		fmt.Fprintf(&b, "gpg %s %v\n", g.Name, g.Fingerprints)
	}
	fmt.Fprintf(&b, "builders %v sources %v required %v allowed %v maxAge %v\n", p.Builders, p.SourceRepositories, p.RequiredPredicateTypes, p.AllowedPredicateTypes, p.MaxAge)
	fmt.Fprintf(&b, "trustedRoot %q %v tlog %s thresholds %+v\n", filepath.Base(p.TrustedRootPath), p.TrustedRoot != nil, p.Tlog, p.Thresholds)
	if p.TrustedRoot != nil {
		fmt.Fprintf(&b, "logs %d CAs %d TSAs %d\n", len(p.TrustedRoot.RekorLogs()), len(p.TrustedRoot.FulcioCertificateAuthorities()), len(p.TrustedRoot.TimestampingAuthorities()))
	}
	return b.String()
}

func TestFromSignerErrors(t *testing.T) {
	t.Parallel()
	dir := signerDir(t)
	const tr = "trusted_root.json"
	tests := []struct {
		name   string
		signer policy.Signer
		flag   string
		want   string
	}{
		{"nothing", policy.Signer{}, "key", "no signer is given"},
		{"trusted root alone", policy.Signer{TrustedRoot: tr}, "key", "no signer is given"},
		{"key without log decision", policy.Signer{Key: "cosign.pub"}, "trusted-root", "--insecure-ignore-tlog"},
		{"identity without issuer", policy.Signer{Identity: "a@example.com", TrustedRoot: tr}, "certificate-oidc-issuer", "is missing"},
		{"issuer without identity", policy.Signer{Issuer: "https://issuer", TrustedRoot: tr}, "certificate-identity", "trusts everyone"},
		{"identity and its regexp", policy.Signer{Identity: "a", IdentityRegExp: "a.*", Issuer: "https://i", TrustedRoot: tr}, "certificate-identity-regexp", "keep one"},
		{"issuer and its regexp", policy.Signer{Identity: "a", Issuer: "https://i", IssuerRegExp: "h.*", TrustedRoot: tr}, "certificate-oidc-issuer-regexp", "keep one"},
		{"identity without trusted root", policy.Signer{Identity: "a", Issuer: "https://i", IgnoreTlog: true}, "trusted-root", "Fulcio"},
		{"trusted root with only gpg", policy.Signer{GPGKey: "maintainer.asc", TrustedRoot: tr}, "trusted-root", "apply to Sigstore signers"},
		{"missing key file", policy.Signer{Key: "nope.pub", IgnoreTlog: true}, "key", `reading "nope.pub"`},
		{"kms key", policy.Signer{Key: "awskms:///alias/x", IgnoreTlog: true}, "key", "cosign public-key"},
		{"private key", policy.Signer{Key: "private.pem", IgnoreTlog: true}, "key", "holds a private key"},
		{"public key as gpg key", policy.Signer{GPGKey: "cosign.pub"}, "gpg-key", "not an armored OpenPGP public key"},
		{"bad regexp", policy.Signer{IdentityRegExp: "(", Issuer: "https://i", TrustedRoot: tr}, "certificate-identity-regexp", "not a valid regular expression"},
		{"directory as key", policy.Signer{Key: ".", IgnoreTlog: true}, "key", "not a regular file"},
		{"not a trusted root", policy.Signer{Key: "cosign.pub", TrustedRoot: "cosign.pub"}, "trusted-root", "not a Sigstore trusted root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.FromSigner(tc.signer, dir)
			var fe *policy.FlagError
			if !errors.As(err, &fe) {
				t.Fatalf("FromSigner() = %v, want a *FlagError", err)
			}
			if fe.Flag != tc.flag || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("FromSigner() = %v (flag %q), want flag %q and %q", err, fe.Flag, tc.flag, tc.want)
			}
		})
	}
}
