package idtoken

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Issuers verifies the tokens of several issuers (GitHub.com and a GitHub
// Enterprise Server, say), each with its own Verifier and the same
// audience: the issuers a policy's uploader rules name
// (policy.Policy.OIDCIssuers).
type Issuers struct {
	names     []string
	verifiers map[string]*Verifier
}

// NewIssuers returns Issuers for the issuers named, each configured as c
// with its Issuer set.
func NewIssuers(issuers []string, c Config) (*Issuers, error) {
	if len(issuers) == 0 {
		return nil, errors.New("configuring the OIDC verifier: no issuer; name at least one (the policy's uploader rules name none: add an \"oidc\" rule, or do not accept OIDC tokens)")
	}
	is := &Issuers{verifiers: map[string]*Verifier{}}
	for _, name := range issuers {
		if _, dup := is.verifiers[name]; dup {
			continue
		}
		c.Issuer = name
		v, err := New(c)
		if err != nil {
			return nil, err
		}
		is.names = append(is.names, name)
		is.verifiers[name] = v
	}
	return is, nil
}

// Names returns the issuers accepted.
func (is *Issuers) Names() []string { return slices.Clone(is.names) }

// Verify verifies raw with the Verifier of the issuer it claims (read
// unverified only to choose; that Verifier checks it), as Verifier.Verify.
func (is *Issuers) Verify(ctx context.Context, raw string) (*Identity, error) {
	if _, err := parseHeader(raw); err != nil {
		return nil, err
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, err
	}
	v, ok := is.verifiers[iss]
	if !ok {
		return nil, refuse(CheckIssuer, "it claims the issuer %q, and this server accepts tokens of %q only; request the token from one of them", truncate(iss, 200), is.names)
	}
	return v.Verify(ctx, raw)
}

// truncate bounds a value from an unverified token quoted in a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
}
