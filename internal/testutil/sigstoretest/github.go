package sigstoretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// GitHubIssuer is the issuer of GitHub Actions ID tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// Issuer signs JWTs (ES256) the way an OIDC provider does and verifies them
// the way Fulcio does.
type Issuer struct {
	URL string
	// KeyID is the "kid" of the tokens' header and of the key in the
	// JWKS that StartOIDCIssuer serves; "test" when empty.
	KeyID string
	key   *ecdsa.PrivateKey
}

// NewIssuer returns an issuer named url with a fresh key.
func NewIssuer(t testing.TB, url string) *Issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Issuer{URL: url, key: key}
}

// Token returns a signed JWT with claims plus iss, iat, nbf and exp (five
// minutes), unless claims set them.
func (i *Issuer) Token(claims map[string]any) (string, error) {
	now := time.Now()
	all := map[string]any{"iss": i.URL, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range claims {
		all[k] = v
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": i.keyID()})
	payload, err := json.Marshal(all)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	h := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, i.key, h[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + b64(sig), nil
}

// JobToken returns the signed ID token of a GitHub Actions job of repo
// running workflowPath (GitHubClaims) for audience, with a "jti" no other
// call gives; extra claims override (nil writes null: absent to a
// verifier). It fails t on an error.
func (i *Issuer) JobToken(t testing.TB, repo, workflowPath, audience string, extra map[string]any) string {
	t.Helper()
	c := GitHubClaims(repo, workflowPath)
	c["aud"], c["jti"] = audience, fmt.Sprintf("jti-%d", jobTokens.Add(1))
	for k, v := range extra {
		c[k] = v
	}
	tok, err := i.Token(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var jobTokens atomic.Int64

// Verify checks a token's signature, issuer, audience and lifetime and
// returns its claims.
func (i *Issuer) Verify(token, audience string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, errors.New("bad JWT signature encoding")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&i.key.PublicKey, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("JWT signature does not verify")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	if claims["iss"] != i.URL {
		return nil, fmt.Errorf("issuer %v is not trusted", claims["iss"])
	}
	if claims["aud"] != audience {
		return nil, fmt.Errorf("audience %v, want %q", claims["aud"], audience)
	}
	if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
		return nil, errors.New("token expired")
	}
	return claims, nil
}

func (i *Issuer) keyID() string {
	if i.KeyID == "" {
		return "test"
	}
	return i.KeyID
}

// PublicKey returns the issuer's verification key.
func (i *Issuer) PublicKey() crypto.PublicKey { return &i.key.PublicKey }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// GitHubClaims returns the claims of a GitHub Actions ID token for a push to
// main of repo ("owner/name") running workflow path (".github/workflows/x.yml").
func GitHubClaims(repo, workflowPath string) map[string]any {
	return map[string]any{
		"sub":                   "repo:" + repo + ":ref:refs/heads/main",
		"repository":            repo,
		"repository_owner":      strings.Split(repo, "/")[0],
		"repository_id":         "123456",
		"repository_owner_id":   "654321",
		"repository_visibility": "public",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"sha":                   "0123456789abcdef0123456789abcdef01234567",
		"workflow":              "release",
		"workflow_ref":          repo + "/" + workflowPath + "@refs/heads/main",
		"workflow_sha":          "0123456789abcdef0123456789abcdef01234567",
		"job_workflow_ref":      repo + "/" + workflowPath + "@refs/heads/main",
		"job_workflow_sha":      "0123456789abcdef0123456789abcdef01234567",
		"event_name":            "push",
		"run_id":                "42",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
		"actor":                 "octocat",
		"actor_id":              "1",
	}
}

// TokenEndpoint is a GitHub Actions runtime token endpoint: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=A with "Authorization: bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN" answers {"count": N, "value": "<JWT>"},
// a token with a "jti" of its own.
type TokenEndpoint struct {
	// RequestURL and RequestToken are what the runner puts in
	// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestURL   string
	RequestToken string
	// Claims go into every token, with "aud" set to the requested audience.
	Claims map[string]any
	// Requests counts the tokens handed out.
	Requests atomic.Int64
}

// StartTokenEndpoint serves tokens signed by iss with claims until t ends.
func StartTokenEndpoint(t testing.TB, iss *Issuer, claims map[string]any) *TokenEndpoint {
	t.Helper()
	te := &TokenEndpoint{RequestToken: "request-token-" + randHex(t), Claims: claims}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_apis/distributedtask/hubs/build/plans/1/jobs/2/idtoken", func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "bearer") || tok != te.RequestToken {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("api-version") == "" {
			http.Error(w, `{"message":"api-version missing"}`, http.StatusBadRequest)
			return
		}
		// A fresh "jti" per token, as GitHub's have (a control plane uses each once), unless Claims set one.
		claims := map[string]any{"jti": fmt.Sprintf("jti-%d", jobTokens.Add(1))}
		for k, v := range te.Claims {
			claims[k] = v
		}
		if aud := r.URL.Query().Get("audience"); aud != "" {
			claims["aud"] = aud
		} else {
			claims["aud"] = "https://github.com/" + fmt.Sprint(claims["repository_owner"])
		}
		jwt, err := iss.Token(claims)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		te.Requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"count": len(jwt), "value": jwt})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	te.RequestURL = srv.URL + "/_apis/distributedtask/hubs/build/plans/1/jobs/2/idtoken?api-version=2.0"
	return te
}

// Env returns the job environment that lets a step request tokens.
func (te *TokenEndpoint) Env() map[string]string {
	return map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   te.RequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": te.RequestToken,
	}
}

func randHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}
