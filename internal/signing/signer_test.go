package signing

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// keyVerifier returns a sigstore-go verifier that trusts only the public key
// in pubPEM, under the hint a key-based bundle carries.
func keyVerifier(t *testing.T, pubPEM []byte, hint string) *verify.Verifier {
	t.Helper()
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	tm := root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{hint: root.NewExpiringKey(v, nilTime, nilTime)})
	sev, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	return sev
}

func newKeySigner(t *testing.T) (*Signer, sigstoretest.CosignKey) {
	t.Helper()
	key := sigstoretest.NewCosignKey(t, "correct horse")
	s, err := New(context.Background(), Options{Key: key.PrivatePath, Password: []byte(key.Password)})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return s, key
}

func TestSignDigestWithCosignKey(t *testing.T) {
	t.Parallel()
	s, key := newKeySigner(t)
	data := []byte("the artifact\n")
	d := digest.SHA256(sha256.Sum256(data))
	b, err := s.SignDigest(context.Background(), d)
	if err != nil {
		t.Fatalf("SignDigest() error = %v", err)
	}
	js, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey struct{ Hint string } `json:"publicKey"`
		} `json:"verificationMaterial"`
		MessageSignature struct {
			MessageDigest struct{ Algorithm string } `json:"messageDigest"`
		} `json:"messageSignature"`
	}
	if err := json.Unmarshal(js, &generic); err != nil {
		t.Fatal(err)
	}
	if generic.MediaType != BundleMediaType || generic.VerificationMaterial.PublicKey.Hint != s.KeyHint() ||
		generic.MessageSignature.MessageDigest.Algorithm != "SHA2_256" {
		t.Errorf("bundle JSON = %s", js)
	}

	sev := keyVerifier(t, key.PublicPEM, s.KeyHint())
	if _, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d[:]), verify.WithKey())); err != nil {
		t.Errorf("sigstore-go rejects the bundle: %v", err)
	}
	other := digest.SHA256(sha256.Sum256([]byte("another artifact\n")))
	if _, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", other[:]), verify.WithKey())); err == nil {
		t.Error("sigstore-go accepts the bundle for another digest")
	}
}

func TestSignDSSE(t *testing.T) {
	t.Parallel()
	s, key := newKeySigner(t)
	d := digest.SHA256(sha256.Sum256([]byte("x")))
	stmt := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"` + d.Hex() + `"}}],"predicateType":"https://example.com/p","predicate":{}}`
	b, err := s.SignDSSE(context.Background(), "application/vnd.in-toto+json", []byte(stmt))
	if err != nil {
		t.Fatalf("SignDSSE() error = %v", err)
	}
	env, err := b.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if env.RawEnvelope().PayloadType != "application/vnd.in-toto+json" {
		t.Errorf("payload type = %q", env.RawEnvelope().PayloadType)
	}
	sev := keyVerifier(t, key.PublicPEM, s.KeyHint())
	res, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d[:]), verify.WithKey()))
	if err != nil {
		t.Fatalf("sigstore-go rejects the DSSE bundle: %v", err)
	}
	if res.Statement == nil || res.Statement.PredicateType != "https://example.com/p" {
		t.Errorf("verified statement = %+v", res.Statement)
	}
	if _, err := s.SignDSSE(context.Background(), "", []byte(stmt)); err == nil {
		t.Error("SignDSSE with no payload type succeeded")
	}
}

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newKeySigner(t)
	b, err := s.SignDigest(context.Background(), digest.SHA256(sha256.Sum256(nil)))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.sigstore.json")
	if err := WriteBundle(path, b); err != nil {
		t.Fatal(err)
	}
	back, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		t.Fatalf("reading the written bundle back: %v", err)
	}
	if v, _ := back.Version(); v != "v0.3" {
		t.Errorf("version = %q, want v0.3", v)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "notpem.key")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"missing file", Options{Key: filepath.Join(dir, "nope.key")}, "opening cosign key"},
		{"wrong password", Options{Key: key.PrivatePath, Password: []byte("wrong")}, fmt.Sprintf("decrypting the cosign key file %q failed: the COSIGN_PASSWORD secret is wrong or missing", key.PrivatePath)},
		{"public key given", Options{Key: key.PublicPath}, fmt.Sprintf(`the cosign key file %q holds a "PUBLIC KEY" PEM block`, key.PublicPath)},
		{"not pem", Options{Key: notPEM}, fmt.Sprintf("the cosign key file %q is not PEM", notPEM)},
		{"unknown scheme", Options{Key: "vault://k"}, `unknown scheme "vault://"`},
		{"keyless without token", Options{FulcioURL: "http://127.0.0.1:1"}, "needs an OIDC token source"},
		{"keyless without fulcio", Options{IDToken: func(context.Context) (string, error) { return "t", nil }}, "needs a Fulcio URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New() error = %v, want it to contain %q", err, tc.want)
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Errorf("exit code = %v, want usage", exitcode.Of(err))
			}
			if strings.Contains(err.Error(), "correct horse") || strings.Contains(err.Error(), "\"pw\"") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestSignDigestRejectsZero(t *testing.T) {
	t.Parallel()
	s, _ := newKeySigner(t)
	if _, err := s.SignDigest(context.Background(), digest.SHA256{}); err == nil {
		t.Fatal("SignDigest(zero) succeeded")
	}
}

func TestKeylessTokenErrorPropagates(t *testing.T) {
	t.Parallel()
	want := errors.New("no token here")
	s, err := New(context.Background(), Options{FulcioURL: "http://127.0.0.1:1", IDToken: func(context.Context) (string, error) { return "", want }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Keyless() {
		t.Fatal("Keyless() = false")
	}
	_, err = s.SignDigest(context.Background(), digest.SHA256(sha256.Sum256(nil)))
	if !errors.Is(err, want) {
		t.Fatalf("SignDigest() error = %v, want the token error", err)
	}
}

var nilTime = time.Time{}
