package signing

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/fake"

	"github.com/slipway/actions/internal/digest"

	"github.com/slipway/actions/internal/exitcode"
)

// No KMS runs here (Debian has no Vault package; the clouds are out of
// reach), so these tests prove that every scheme reaches its registered
// provider and that a provider that cannot be reached fails clearly. Only
// loopback addresses are contacted; the AWS test disables the instance
// metadata service so that the SDK never looks for credentials off-host.

func TestKMSProvidersRegistered(t *testing.T) {
	t.Parallel()
	have := map[string]bool{}
	for _, p := range kms.SupportedProviders() {
		have[p] = true
	}
	for _, scheme := range KMSSchemes {
		if !have[scheme] {
			t.Errorf("no KMS provider registered for %q (have %v)", scheme, kms.SupportedProviders())
		}
	}
}

// TestKMSMalformedReferences: the providers' own reference checks run before
// any network access.
func TestKMSMalformedReferences(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{"azurekms://only-a-vault", "gcpkms://not/a/key/path", "hashivault://bad name"} {
		t.Run(uri, func(t *testing.T) {
			t.Parallel()
			_, err := New(context.Background(), Options{Key: uri})
			if err == nil || !strings.Contains(err.Error(), uri) {
				t.Fatalf("New(%q) error = %v, want one naming the URI", uri, err)
			}
			if strings.Contains(err.Error(), "not registered") {
				t.Fatalf("New(%q): %v", uri, err)
			}
		})
	}
}

func TestKMSUnreachable(t *testing.T) {
	// Not parallel: the providers read their configuration from the process
	// environment.
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "test-token")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	for _, uri := range []string{"hashivault://release-key", "awskms://127.0.0.1:1/alias/release-key"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := New(ctx, Options{Key: uri})
		cancel()
		if err == nil {
			t.Fatalf("New(%q) succeeded with no KMS running", uri)
		}
		if !strings.Contains(err.Error(), uri) || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("New(%q) error = %v, want it to name the URI and the credentials", uri, err)
		}
		if exitcode.Of(err) != exitcode.Internal {
			t.Errorf("New(%q) exit code = %v, want internal", uri, exitcode.Of(err))
		}
		if strings.Contains(err.Error(), "test-secret") || strings.Contains(err.Error(), "test-token") {
			t.Errorf("error leaks a credential: %v", err)
		}
	}
}

// TestKMSSigningPath signs through sigstore's KMS registry with its
// in-process fake provider (registered only in this test binary): the same
// code path as a real KMS key, minus the network.
func TestKMSSigningPath(t *testing.T) {
	t.Parallel()
	ref := KeyRef{Kind: KeyKMS, URI: fake.ReferenceScheme + "release", Scheme: fake.ReferenceScheme}
	s, err := newSigner(context.Background(), ref, Options{})
	if err != nil {
		t.Fatalf("newSigner() error = %v", err)
	}
	d := digest.SHA256(sha256.Sum256([]byte("kms artifact")))
	b, err := s.SignDigest(context.Background(), d)
	if err != nil {
		t.Fatalf("SignDigest() error = %v", err)
	}
	sev := keyVerifier(t, []byte(s.PublicKeyPEM()), s.KeyHint())
	if _, err := sev.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", d[:]), verify.WithKey())); err != nil {
		t.Fatalf("sigstore-go rejects the KMS-signed bundle: %v", err)
	}
}
