package idtoken_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestIssuerMustMatchDiscovery: the configured issuer must be the one the
// discovery document names, byte for byte; another spelling of the same
// server is another issuer.
func TestIssuerMustMatchDiscovery(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	tok := sign(t, iss.Issuer, jobClaims(t, nil))
	for _, configured := range []string{
		iss.URL + "/",
		strings.Replace(iss.URL, "127.0.0.1", "localhost", 1),
	} {
		_, err := newVerifier(t, configured).Verify(context.Background(), tok)
		var u *idtoken.UnavailableError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "discovery") {
			t.Errorf("Verify() with issuer %q = %v; want an *UnavailableError from discovery", configured, err)
		}
	}
}

// TestIssuerAnswersTooMuch: a discovery document or JWKS over 1 MiB is
// refused, not read whole.
func TestIssuerAnswersTooMuch(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, "")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer": %q, "jwks_uri": %q, "id_token_signing_alg_values_supported": ["ES256"]}`, srv.URL, srv.URL+"/jwks")
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"keys": [], "padding": "`+strings.Repeat("x", 2<<20)+`"}`)
	})
	_, err := newVerifier(t, srv.URL).Verify(context.Background(), sign(t, iss, jobClaims(t, nil)))
	var u *idtoken.UnavailableError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "answered more than 1048576 bytes") {
		t.Fatalf("Verify() = %v; want an *UnavailableError naming the size limit", err)
	}
}

// TestIssuerListsHMAC: an issuer whose document lists only "none" or HMAC
// is not one this server verifies tokens of.
func TestIssuerListsHMAC(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer": %q, "jwks_uri": %q, "id_token_signing_alg_values_supported": ["HS256", "none"]}`, iss.URL, iss.URL+"/jwks")
	}))
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	_, err := newVerifier(t, srv.URL).Verify(context.Background(), hmacToken("HS256", jobClaims(t, nil), []byte("secret")))
	var u *idtoken.UnavailableError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "none of them an asymmetric one") {
		t.Fatalf("Verify() = %v; want an *UnavailableError", err)
	}
}

// TestRuntimeTokenUploads is the whole path: a job asks the runner's token
// endpoint (internal/oidc, the client side) for a token with the server's
// audience; the server verifies it against the issuer's discovery document
// and JWKS, and the policy's uploader rule decides.
func TestRuntimeTokenUploads(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	claims := jobClaims(t, map[string]any{"aud": nil, "job_workflow_ref": "octo/app/.github/workflows/release.yml@refs/tags/v1.2"})
	te := sigstoretest.StartTokenEndpoint(t, iss.Issuer, claims)
	env := te.Env()
	raw, err := oidc.GitHub{Getenv: func(k string) string { return env[k] }}.Token(context.Background(), audience)
	if err != nil {
		t.Fatal(err)
	}
	id, err := newVerifier(t, iss.URL).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("Verify(runtime token) = %v", err)
	}
	p := &policy.Policy{Uploaders: []policy.Uploader{{
		Name: "release",
		OIDC: &policy.OIDCRule{Issuer: iss.URL, RepositoryID: "123456", RepositoryOwnerID: "654321",
			JobWorkflowRef: policy.Pattern{Exact: "octo/app/.github/workflows/release.yml@refs/tags/v1.2"}},
		Repositories: []string{"https://github.com/octo/app"},
	}}}
	if d := p.AllowUpload(id.Caller(), "git+https://github.com/octo/app@refs/tags/v1.2"); !d.Allowed || d.Rule != "release" {
		t.Errorf("AllowUpload() = %+v", d)
	}
	r := idtoken.NewReplayCache(0, 0, nil)
	if err := r.Use(id); err != nil {
		t.Fatal(err)
	}
	if err := r.Use(id); err == nil {
		t.Error("the same token was accepted twice")
	}
}

// TestKnownKeysDoNotWaitForAFetch: while a token with an unknown key id
// waits for a slow JWKS fetch, tokens of a known key verify at once.
func TestKnownKeysDoNotWaitForAFetch(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.StartOIDCIssuer(t, "")
	release := make(chan struct{})
	var hold atomic.Bool
	iss.BeforeJWKS = func() {
		if hold.Load() {
			<-release
		}
	}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	v, err := idtoken.New(idtoken.Config{Issuer: iss.URL, Audience: audience, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	known := sign(t, iss.Issuer, jobClaims(t, nil))
	if _, err := v.Verify(context.Background(), known); err != nil {
		t.Fatal(err)
	}
	// Past the refresh interval a token of an unknown key fetches the JWKS,
	// which the issuer now holds back.
	clock.Add(int64(idtoken.DefaultKeyRefresh + time.Second))
	hold.Store(true)
	other := sigstoretest.NewIssuer(t, iss.URL)
	other.KeyID = "new"
	stuck := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), sign(t, other, jobClaims(t, nil)))
		stuck <- err
	}()
	for iss.JWKSRequests.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), known)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Verify(known key) during a fetch = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("Verify(known key) waited for the JWKS fetch of another token")
	}
	close(release)
	var e *idtoken.Error
	if err := <-stuck; !errors.As(err, &e) || e.Check != idtoken.CheckKeyID {
		t.Errorf("Verify(unknown key) = %v; want a refusal of check %q", err, idtoken.CheckKeyID)
	}
}

// TestIssuers: one server accepting GitHub.com's and a GitHub Enterprise
// Server's tokens verifies each with its own issuer's keys.
func TestIssuers(t *testing.T) {
	t.Parallel()
	dotcom := sigstoretest.StartOIDCIssuer(t, "")
	ghes := sigstoretest.StartOIDCIssuer(t, "/_services/token")
	stranger := sigstoretest.StartOIDCIssuer(t, "")
	is, err := idtoken.NewIssuers([]string{dotcom.URL, ghes.URL, dotcom.URL}, idtoken.Config{Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	if got := is.Names(); len(got) != 2 {
		t.Errorf("Names() = %q; want each issuer once", got)
	}
	for _, iss := range []*sigstoretest.OIDCIssuer{dotcom, ghes} {
		id, err := is.Verify(context.Background(), sign(t, iss.Issuer, jobClaims(t, nil)))
		if err != nil || id.Issuer != iss.URL {
			t.Errorf("Verify(token of %q) = %+v, %v", iss.URL, id, err)
		}
	}
	var e *idtoken.Error
	if _, err := is.Verify(context.Background(), sign(t, stranger.Issuer, jobClaims(t, nil))); !errors.As(err, &e) || e.Check != idtoken.CheckIssuer {
		t.Errorf("Verify(token of another issuer) = %v; want a refusal of check %q", err, idtoken.CheckIssuer)
	}
	// A token that claims GHES as its issuer but is signed with GitHub.com's key.
	forged := *dotcom.Issuer
	forged.URL = ghes.URL
	if _, err := is.Verify(context.Background(), sign(t, &forged, jobClaims(t, nil))); !errors.As(err, &e) || e.Check != idtoken.CheckSignature {
		t.Errorf("Verify(GHES claimed, GitHub.com key) = %v; want a refusal of check %q", err, idtoken.CheckSignature)
	}
	if _, err := idtoken.NewIssuers(nil, idtoken.Config{Audience: audience}); err == nil {
		t.Error("NewIssuers(none) succeeded")
	}
}
