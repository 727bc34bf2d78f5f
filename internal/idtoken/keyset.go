package idtoken

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxDocSize bounds the discovery document and the JWKS.
const maxDocSize = 1 << 20

// keySet is the issuer's JWKS, fetched when first needed and again when a
// token names a key it does not hold, at most once per refresh interval:
// a stream of tokens with made-up key ids cannot make the server fetch
// the JWKS for each. It implements go-oidc's KeySet.
type keySet struct {
	issuer  string
	url     string
	algs    []jose.SignatureAlgorithm
	client  *http.Client
	refresh time.Duration
	now     func() time.Time

	fetchMu sync.Mutex // held by the one fetch under way
	mu      sync.Mutex // guards keys and fetched
	keys    []jose.JSONWebKey
	fetched time.Time // of the last fetch attempt
}

// stateKey carries a *verifyState through go-oidc's verifier to the key
// set, which records what it found there.
type stateKey struct{}

type verifyState struct {
	payload []byte // the payload, once its signature verified
	err     error  // the key set's own refusal or unavailability
}

// VerifySignature verifies jwt's signature with the issuer's key named by
// its "kid" and returns its payload.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	st, _ := ctx.Value(stateKey{}).(*verifyState)
	if st == nil {
		st = &verifyState{}
	}
	payload, err := k.verify(ctx, jwt)
	st.payload, st.err = payload, err
	return payload, err
}

func (k *keySet) verify(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, k.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, refuse(CheckFormat, "it is not a JWS with one signature by %q", k.algs)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.keysFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != jws.Signatures[0].Header.Algorithm {
			continue
		}
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	if kid == "" {
		return nil, refuse(CheckSignature, "its signature verifies with none of the keys of issuer %q; get a fresh token from that issuer", k.issuer)
	}
	return nil, refuse(CheckSignature, "its signature does not verify with key %q of issuer %q: the token was altered or signed by someone else; get a fresh token from that issuer", kid, k.issuer)
}

// keysFor returns the keys, fetching them when none are held, or when kid
// is not among them and the last fetch is older than the refresh interval.
// Requests for a key already held never wait for a fetch.
func (k *keySet) keysFor(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if keys, ok := k.held(kid); ok {
		return keys, nil
	}
	k.fetchMu.Lock() // one fetch at a time; the others then find its keys
	defer k.fetchMu.Unlock()
	if keys, ok := k.held(kid); ok {
		return keys, nil
	}
	k.mu.Lock()
	last, had := k.fetched, k.keys != nil
	k.mu.Unlock()
	if since := k.now().Sub(last); !last.IsZero() && since < k.refresh {
		if had {
			return nil, refuse(CheckKeyID, "issuer %q publishes no key %q (keys fetched %s ago); get a fresh token from that issuer", k.issuer, kid, since.Round(time.Second))
		}
		return nil, &UnavailableError{Issuer: k.issuer, Err: fmt.Errorf("the last fetch of %q failed %s ago; waiting %s between attempts", k.url, since.Round(time.Second), k.refresh)}
	}
	k.mu.Lock()
	k.fetched = k.now()
	k.mu.Unlock()
	// The fetch serves every waiting request: a caller that goes away must
	// not cut it short. The client's timeouts bound it.
	keys, err := fetchJWKS(context.WithoutCancel(ctx), k.client, k.url)
	if err != nil {
		return nil, &UnavailableError{Issuer: k.issuer, Err: err}
	}
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	if keys, ok := k.held(kid); ok {
		return keys, nil
	}
	return nil, refuse(CheckKeyID, "issuer %q publishes no key %q; get a fresh token from that issuer", k.issuer, kid)
}

// held returns the keys when they hold kid (any key when kid is "").
func (k *keySet) held(kid string) ([]jose.JSONWebKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ok := kid == "" && len(k.keys) > 0 || slices.ContainsFunc(k.keys, func(j jose.JSONWebKey) bool { return j.KeyID == kid })
	return k.keys, ok
}

// fetchJWKS reads a JSON Web Key Set, keeping public signing keys only.
func fetchJWKS(ctx context.Context, client *http.Client, url string) ([]jose.JSONWebKey, error) {
	body, err := get(ctx, client, url)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("the JWKS at %q is not a JSON key set: %v", url, err)
	}
	keys := []jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || key.Use != "" && key.Use != "sig" {
			continue // a key of a kind go-jose does not know, or not for signatures
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the JWKS at %q holds no public signing key", url)
	}
	return keys, nil
}

// get fetches a small JSON document.
func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("reading %q: %w", url, err)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %q answered %s", url, resp.Status)
	}
	return body, nil
}

// capped bounds every response body to maxDocSize: the discovery document
// and the JWKS are small, and go-oidc reads the former whole.
type capped struct{ base http.RoundTripper }

func (c capped) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxDocSize, url: r.URL.String()}
	}
	return resp, err
}

type cappedBody struct {
	io.ReadCloser
	left int64
	url  string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooBig()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte past the limit tells a body that is too big
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, b.tooBig()
	}
	return n, err
}

func (b *cappedBody) tooBig() error {
	return fmt.Errorf("%q answered more than %d bytes, too much for a discovery document or JWKS", b.url, maxDocSize)
}
