package idtoken_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

const audience = "https://slipway.example.com"

// jobClaims are the claims of a release job's token, with a fresh jti.
func jobClaims(t *testing.T, extra map[string]any) map[string]any {
	t.Helper()
	c := sigstoretest.GitHubClaims("octo/app", ".github/workflows/release.yml")
	c["aud"] = audience
	c["jti"] = "jti-" + t.Name()
	for k, v := range extra {
		c[k] = v // nil writes null: the claim is absent to the verifier
	}
	return c
}

func sign(t *testing.T, iss *sigstoretest.Issuer, claims map[string]any) string {
	t.Helper()
	tok, err := iss.Token(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hmacToken is a token whose header says alg, signed with HMAC-SHA256 over
// secret: the algorithm confusion attack uses the issuer's public key as
// the secret.
func hmacToken(alg string, claims map[string]any, secret []byte) string {
	signing := b64(map[string]string{"alg": alg, "typ": "JWT", "kid": "test"}) + "." + b64(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func newVerifier(t *testing.T, issuer string) *idtoken.Verifier {
	t.Helper()
	v, err := idtoken.New(idtoken.Config{Issuer: issuer, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerify(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	v := newVerifier(t, iss.URL)
	now := time.Now()
	der, err := x509.MarshalPKIXPublicKey(iss.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rogue := sigstoretest.NewIssuer(t, iss.URL) // same name and kid, another key
	otherKid := sigstoretest.NewIssuer(t, iss.URL)
	otherKid.KeyID = "rotated"
	tests := []struct {
		name  string
		token func(t *testing.T) string
		check string // "" for a valid token
		want  string
	}{
		{name: "valid", token: func(t *testing.T) string { return sign(t, iss.Issuer, jobClaims(t, nil)) }},
		{name: "audience list holding ours", token: func(t *testing.T) string {
			return sign(t, iss.Issuer, jobClaims(t, map[string]any{"aud": []string{"other", audience}}))
		}},
		{name: "wrong audience", check: idtoken.CheckAudience, want: `for the audience ["sigstore"], not "https://slipway.example.com"`,
			token: func(t *testing.T) string { return sign(t, iss.Issuer, jobClaims(t, map[string]any{"aud": "sigstore"})) }},
		{name: "no audience", check: idtoken.CheckAudience,
			token: func(t *testing.T) string { return sign(t, iss.Issuer, jobClaims(t, map[string]any{"aud": nil})) }},
		{name: "expired", check: idtoken.CheckExpiry, want: "request a fresh token",
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"iat": now.Add(-10 * time.Minute).Unix(), "nbf": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-2 * time.Minute).Unix()}))
			}},
		{name: "expired within the skew", token: func(t *testing.T) string {
			return sign(t, iss.Issuer, jobClaims(t, map[string]any{"iat": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(-30 * time.Second).Unix()}))
		}},
		{name: "no exp", check: idtoken.CheckClaims, want: `no "exp" claim`,
			token: func(t *testing.T) string { return sign(t, iss.Issuer, jobClaims(t, map[string]any{"exp": nil})) }},
		{name: "not yet valid", check: idtoken.CheckNotBefore, want: "check the clocks",
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"nbf": now.Add(3 * time.Minute).Unix(), "exp": now.Add(8 * time.Minute).Unix()}))
			}},
		{name: "issued in the future", check: idtoken.CheckIssuedAt,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"iat": now.Add(3 * time.Minute).Unix(), "exp": now.Add(8 * time.Minute).Unix()}))
			}},
		{name: "lifetime too long", check: idtoken.CheckLifetime,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"exp": now.Add(48 * time.Hour).Unix()}))
			}},
		{name: "wrong issuer", check: idtoken.CheckIssuer, want: `issued by "https://token.actions.githubusercontent.com"`,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"iss": sigstoretest.GitHubIssuer}))
			}},
		{name: "signed by another key", check: idtoken.CheckSignature, want: `does not verify with key "test"`,
			token: func(t *testing.T) string { return sign(t, rogue, jobClaims(t, nil)) }},
		{name: "unknown kid", check: idtoken.CheckKeyID, want: `publishes no key "rotated"`,
			token: func(t *testing.T) string { return sign(t, otherKid, jobClaims(t, nil)) }},
		{name: "alg none", check: idtoken.CheckFormat, want: "part 3 of 3 is empty",
			token: func(t *testing.T) string {
				return b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(jobClaims(t, nil)) + "."
			}},
		{name: "alg none with a signature", check: idtoken.CheckAlgorithm, want: `signed with "none"`,
			token: func(t *testing.T) string {
				return b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(jobClaims(t, nil)) + ".AAAA"
			}},
		{name: "HS256 keyed with the public key", check: idtoken.CheckAlgorithm, want: `signed with "HS256"`,
			token: func(t *testing.T) string { return hmacToken("HS256", jobClaims(t, nil), pubPEM) }},
		{name: "HS256 keyed with the DER key", check: idtoken.CheckAlgorithm,
			token: func(t *testing.T) string { return hmacToken("HS256", jobClaims(t, nil), der) }},
		{name: "ES256 header over an HMAC", check: idtoken.CheckSignature,
			token: func(t *testing.T) string { return hmacToken("ES256", jobClaims(t, nil), pubPEM) }},
		{name: "payload swapped", check: idtoken.CheckSignature,
			token: func(t *testing.T) string {
				p := strings.Split(sign(t, iss.Issuer, jobClaims(t, nil)), ".")
				return p[0] + "." + b64(jobClaims(t, map[string]any{"repository_id": "999"})) + "." + p[2]
			}},
		{name: "two parts", check: idtoken.CheckFormat, want: "has 2 dot-separated parts",
			token: func(t *testing.T) string { return "eyJhbGciOiJFUzI1NiJ9.e30" }},
		{name: "bearer prefix", check: idtoken.CheckFormat,
			token: func(t *testing.T) string { return "Bearer " + sign(t, iss.Issuer, jobClaims(t, nil)) }},
		{name: "header not JSON", check: idtoken.CheckFormat,
			token: func(t *testing.T) string { return "bm90IGpzb24.e30.AAAA" }},
		{name: "padded base64", check: idtoken.CheckFormat,
			token: func(t *testing.T) string { return "eyJhbGciOiJFUzI1NiJ9.e30=.AAAA" }},
		{name: "too big", check: idtoken.CheckFormat, want: "more than 16384",
			token: func(t *testing.T) string { return strings.Repeat("A", idtoken.MaxTokenSize+1) }},
		{name: "critical header", check: idtoken.CheckFormat, want: "critical extensions",
			token: func(t *testing.T) string {
				return b64(map[string]any{"alg": "ES256", "kid": "test", "crit": []string{"b64"}}) + "." + b64(jobClaims(t, nil)) + ".AAAA"
			}},
		{name: "no repository_id", check: idtoken.CheckClaims, want: `no "repository_id" claim`,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"repository_id": nil}))
			}},
		{name: "numeric repository_id", check: idtoken.CheckClaims,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"repository_id": 123456}))
			}},
		{name: "no job_workflow_ref", check: idtoken.CheckClaims, want: `no "job_workflow_ref" claim`,
			token: func(t *testing.T) string {
				return sign(t, iss.Issuer, jobClaims(t, map[string]any{"job_workflow_ref": nil}))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := tc.token(t)
			id, err := v.Verify(context.Background(), raw)
			if tc.check == "" {
				if err != nil {
					t.Fatalf("Verify() = %v", err)
				}
				if id.RepositoryID != "123456" || id.RepositoryOwnerID != "654321" || id.JobWorkflowRef != "octo/app/.github/workflows/release.yml@refs/heads/main" ||
					id.Issuer != iss.URL || id.TokenID != "jti-"+t.Name() || id.RunnerEnvironment != "github-hosted" || id.RunID != "42" || id.Expiry.IsZero() {
					t.Errorf("identity = %+v", id)
				}
				return
			}
			var e *idtoken.Error
			if !errors.As(err, &e) || e.Check != tc.check {
				t.Fatalf("Verify() = %v (%T); want an *idtoken.Error of check %q", err, err, tc.check)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify() = %v; want it to contain %q", err, tc.want)
			}
			for _, part := range strings.Split(raw, ".") {
				if len(part) > 8 && strings.Contains(err.Error(), part) {
					t.Errorf("the error quotes part of the token: %v", err)
				}
			}
		})
	}
}

// TestVerifyEnterpriseServer: a GitHub Enterprise Server issuer has a path
// (https://HOST/_services/token); its discovery document is under it.
func TestVerifyEnterpriseServer(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "/_services/token")
	v := newVerifier(t, iss.URL)
	if _, err := v.Verify(context.Background(), sign(t, iss.Issuer, jobClaims(t, nil))); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	// The same server's root is another issuer.
	root := newVerifier(t, strings.TrimSuffix(iss.URL, "/_services/token"))
	var u *idtoken.UnavailableError
	if _, err := root.Verify(context.Background(), sign(t, iss.Issuer, jobClaims(t, nil))); !errors.As(err, &u) {
		t.Fatalf("Verify() with the host as issuer = %v; want an *UnavailableError (no discovery document there)", err)
	}
}

// TestUnknownKidFetchesKeysOnce: tokens naming keys the issuer does not
// publish make the verifier fetch the JWKS at most once per refresh
// interval, not once per token.
func TestUnknownKidFetchesKeysOnce(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	v := newVerifier(t, iss.URL)
	if _, err := v.Verify(context.Background(), sign(t, iss.Issuer, jobClaims(t, nil))); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		other := sigstoretest.NewIssuer(t, iss.URL)
		other.KeyID = "made-up-" + string(rune('a'+i))
		var e *idtoken.Error
		if _, err := v.Verify(context.Background(), sign(t, other, jobClaims(t, nil))); !errors.As(err, &e) || e.Check != idtoken.CheckKeyID {
			t.Fatalf("Verify(unknown kid) = %v", err)
		}
	}
	if n := iss.JWKSRequests.Load(); n != 1 {
		t.Errorf("the JWKS was fetched %d times; want 1 (unknown kids must not each cause a fetch)", n)
	}
	if n := iss.DiscoveryRequests.Load(); n != 1 {
		t.Errorf("the discovery document was fetched %d times; want 1", n)
	}
}

// TestKeyRotation: once the refresh interval has passed, a token signed
// with a key the issuer has since published is accepted.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	clock := time.Now()
	v, err := idtoken.New(idtoken.Config{Issuer: iss.URL, Audience: audience, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(t, iss.Issuer, jobClaims(t, nil))); err != nil {
		t.Fatal(err)
	}
	iss.KeyID = "rotated" // the issuer now publishes its key under another id
	tok := sign(t, iss.Issuer, jobClaims(t, nil))
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("a new kid was accepted before the refresh interval passed")
	}
	clock = clock.Add(idtoken.DefaultKeyRefresh + time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify() after the refresh interval = %v", err)
	}
}

// TestIssuerUnreachable: when the issuer cannot be reached the answer is
// an *UnavailableError (503), never an accepted token nor a 401.
func TestIssuerUnreachable(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, "http://127.0.0.1:1")
	v := newVerifier(t, iss.URL)
	_, err := v.Verify(context.Background(), sign(t, iss, jobClaims(t, nil)))
	var u *idtoken.UnavailableError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "check that the server reaches the issuer") {
		t.Fatalf("Verify() = %v; want an *UnavailableError", err)
	}
	var e *idtoken.Error
	if errors.As(err, &e) {
		t.Errorf("an unreachable issuer is a refused token: %v", err)
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    idtoken.Config
		want string
	}{
		{idtoken.Config{}, "the audience is empty"},
		{idtoken.Config{Issuer: "http://token.example.com", Audience: audience}, "is not an https URL"},
		{idtoken.Config{Issuer: "https://u@token.example.com", Audience: audience}, "is not an issuer URL"},
	} {
		if _, err := idtoken.New(tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v; want an error containing %q", tc.c, err, tc.want)
		}
	}
	v, err := idtoken.New(idtoken.Config{Audience: audience})
	if err != nil || v.Issuer() != "https://token.actions.githubusercontent.com" {
		t.Errorf("New(default issuer) = %v, %v", v, err)
	}
}
