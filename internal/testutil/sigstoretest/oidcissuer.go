package sigstoretest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// OIDCIssuer is an OpenID Connect issuer served over HTTP, as GitHub's
// (https://token.actions.githubusercontent.com) or a GitHub Enterprise
// Server's (https://HOST/_services/token) is: the discovery document at
// ISSUER/.well-known/openid-configuration and the JWKS it names, holding
// the public key of the embedded Issuer, which signs the tokens.
type OIDCIssuer struct {
	*Issuer
	// DiscoveryRequests and JWKSRequests count the documents served.
	DiscoveryRequests, JWKSRequests atomic.Int64
	// BeforeJWKS, when set (before the first request), runs before each
	// JWKS answer, after JWKSRequests counted it: a test can hold the
	// answer back.
	BeforeJWKS func()
}

// StartOIDCIssuer starts an issuer at a loopback URL with path (""
// for GitHub's form, "/_services/token" for GitHub Enterprise Server's) and
// a fresh ES256 key; it stops when t ends. Its URL is the issuer ("iss") of
// the tokens it signs, and what a verifier is configured with.
func StartOIDCIssuer(t testing.TB, path string) *OIDCIssuer {
	t.Helper()
	o := &OIDCIssuer{}
	mux := http.NewServeMux()
	path = strings.TrimSuffix(path, "/")
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		o.DiscoveryRequests.Add(1)
		writeJSON(w, map[string]any{
			"issuer":                                o.URL,
			"jwks_uri":                              o.URL + "/.well-known/jwks",
			"subject_types_supported":               []string{"public", "pairwise"},
			"response_types_supported":              []string{"id_token"},
			"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_id", "repository_owner", "repository_owner_id", "run_id", "run_attempt", "workflow_ref", "job_workflow_ref", "runner_environment", "event_name", "sha"},
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"scopes_supported":                      []string{"openid"},
		})
	})
	mux.HandleFunc("GET "+path+"/.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		o.JWKSRequests.Add(1)
		if o.BeforeJWKS != nil {
			o.BeforeJWKS()
		}
		point, _ := o.key.PublicKey.Bytes() // 0x04 || X || Y
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": o.keyID(),
			"x": b64(point[1:33]), "y": b64(point[33:]),
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	o.Issuer = NewIssuer(t, srv.URL+path)
	return o
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
