package idtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	ghoidc "github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/timeouts"
)

// Defaults for Config's zero fields.
const (
	// DefaultClockSkew is how far the server's clock may be from the
	// issuer's: a token is accepted until exp+skew, from nbf-skew.
	DefaultClockSkew = time.Minute
	// DefaultMaxLifetime bounds exp-iat. GitHub's tokens live minutes; a
	// token meant to live longer is refused, so a stolen one is of use for
	// a short time only.
	DefaultMaxLifetime = time.Hour
	// DefaultKeyRefresh is the least time between two fetches of the JWKS.
	DefaultKeyRefresh = time.Minute
)

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer is the exact issuer: ghoidc.GitHubIssuer when "" (GitHub.com),
	// "https://HOST/_services/token" for GitHub Enterprise Server. It must
	// be https (http only on a loopback address, for tests); its discovery
	// document must name the same issuer.
	Issuer string
	// Audience is required: a token must name it in "aud". Give each server
	// its own (its public URL, say), so that a token minted for another
	// service is of no use here.
	Audience string
	// ClockSkew, MaxLifetime and KeyRefresh default to the constants above.
	ClockSkew   time.Duration
	MaxLifetime time.Duration
	KeyRefresh  time.Duration
	// HTTP fetches the discovery document and the JWKS; a client on
	// timeouts' default limits when nil. Responses are capped at 1 MiB.
	HTTP *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Verifier verifies ID tokens of one issuer for one audience. It fetches
// the issuer's discovery document on first use (not in New, so that a
// server starts while the issuer is unreachable) and is safe for
// concurrent use.
type Verifier struct {
	c      Config
	client *http.Client

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	algs     []string
	tried    time.Time // the last failed discovery
}

// New checks c and returns a Verifier.
func New(c Config) (*Verifier, error) {
	if c.Issuer == "" {
		c.Issuer = ghoidc.GitHubIssuer
	}
	if err := policy.CheckIssuer(c.Issuer); err != nil {
		return nil, fmt.Errorf("configuring the OIDC verifier: issuer %w", err)
	}
	if c.Audience == "" {
		return nil, errors.New("configuring the OIDC verifier: the audience is empty; set the audience tokens must be requested for (the server's public URL, say), and the same in mcp-upload's audience input")
	}
	if c.ClockSkew <= 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.MaxLifetime <= 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	if c.KeyRefresh <= 0 {
		c.KeyRefresh = DefaultKeyRefresh
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	base := c.HTTP
	if base == nil {
		base = timeouts.Config{}.Client("OIDC issuer")
	}
	client := *base
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client.Transport = capped{base: rt}
	return &Verifier{c: c, client: &client}, nil
}

// Issuer returns the issuer the Verifier accepts.
func (v *Verifier) Issuer() string { return v.c.Issuer }

// Verify verifies raw, a compact JWS, and returns the identity it
// describes. A refused token is an *Error (the caller is not
// authenticated); an issuer that cannot be reached is an
// *UnavailableError. Verify does not consume the token: see ReplayCache.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Identity, error) {
	h, ferr := parseHeader(raw)
	if ferr != nil {
		return nil, ferr
	}
	verifier, algs, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(algs, h.Alg) {
		return nil, refuse(CheckAlgorithm, "it is signed with %q, and issuer %q signs with %q only; a token with \"none\" or an HMAC algorithm is never accepted", h.Alg, v.c.Issuer, algs)
	}
	st := &verifyState{}
	tok, err := verifier.Verify(context.WithValue(ctx, stateKey{}, st), raw)
	if st.err != nil {
		return nil, st.err
	}
	if st.payload == nil {
		return nil, refuse(CheckFormat, "it is not a JWS that go-oidc reads (%v); send the JWT the runtime gave", err)
	}
	id, cerr := v.claims(st.payload)
	if cerr != nil {
		return nil, cerr
	}
	if err != nil || tok == nil {
		// go-oidc refused what the checks above accepted: refuse too.
		return nil, refuse(CheckClaims, "%v", err)
	}
	return id, nil
}

// discover fetches the discovery document once, and again after a failure
// no sooner than KeyRefresh later.
func (v *Verifier) discover(ctx context.Context) (*oidc.IDTokenVerifier, []string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, v.algs, nil
	}
	if since := v.c.Now().Sub(v.tried); !v.tried.IsZero() && since < v.c.KeyRefresh {
		return nil, nil, &UnavailableError{Issuer: v.c.Issuer, Err: fmt.Errorf("its discovery document could not be fetched %s ago; waiting %s between attempts", since.Round(time.Second), v.c.KeyRefresh)}
	}
	v.tried = v.c.Now()
	dctx := oidc.ClientContext(context.WithoutCancel(ctx), v.client)
	p, err := oidc.NewProvider(dctx, v.c.Issuer)
	if err != nil {
		return nil, nil, &UnavailableError{Issuer: v.c.Issuer, Err: fmt.Errorf("discovery: %w", err)}
	}
	var doc struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKS == "" {
		return nil, nil, &UnavailableError{Issuer: v.c.Issuer, Err: fmt.Errorf("its discovery document names no jwks_uri")}
	}
	if err := policy.CheckIssuer(doc.JWKS); err != nil {
		return nil, nil, &UnavailableError{Issuer: v.c.Issuer, Err: fmt.Errorf("its jwks_uri %w", err)}
	}
	if len(doc.Algs) == 0 {
		doc.Algs = []string{oidc.RS256} // the algorithm OIDC discovery defaults to
	}
	algs := asymmetric(doc.Algs)
	if len(algs) == 0 {
		return nil, nil, &UnavailableError{Issuer: v.c.Issuer, Err: fmt.Errorf("its discovery document lists the algorithms %q, none of them an asymmetric one this server verifies", doc.Algs)}
	}
	joseAlgs := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		joseAlgs[i] = jose.SignatureAlgorithm(a)
	}
	ks := &keySet{issuer: v.c.Issuer, url: doc.JWKS, algs: joseAlgs, client: v.client, refresh: v.c.KeyRefresh, now: v.c.Now}
	v.verifier = oidc.NewVerifier(v.c.Issuer, ks, &oidc.Config{
		ClientID:             v.c.Audience,
		SupportedSigningAlgs: algs,
		// Lifetimes are checked by claims, with the configured skew
		// (go-oidc allows 5 minutes before nbf and none after exp).
		SkipExpiryCheck: true,
	})
	v.algs = algs
	return v.verifier, algs, nil
}

// asymmetric keeps the public-key algorithms among algs: never "none" or
// HMAC, whatever an issuer's document lists.
func asymmetric(algs []string) []string {
	var out []string
	for _, a := range algs {
		switch a {
		case oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA:
			out = append(out, a)
		}
	}
	return out
}
