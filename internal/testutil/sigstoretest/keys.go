package sigstoretest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/cosign/v2/pkg/cosign"
)

// CosignKey is a cosign key pair written to a test directory.
type CosignKey struct {
	// PrivatePath is the encrypted private key (cosign.key).
	PrivatePath string
	// PublicPath is the PEM public key (cosign.pub).
	PublicPath string
	// Password encrypts the private key.
	Password string
	// PublicPEM is the content of PublicPath.
	PublicPEM []byte
	// PrivatePEM is the content of PrivatePath (the COSIGN_KEY secret).
	PrivatePEM []byte
}

// NewCosignKey generates an ECDSA P-256 key pair the way "cosign
// generate-key-pair" does (cosign.GenerateKeyPair) and writes cosign.key and
// cosign.pub into a new temporary directory.
func NewCosignKey(t testing.TB, password string) CosignKey {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatalf("generating cosign key pair: %v", err)
	}
	dir := t.TempDir()
	k := CosignKey{
		PrivatePath: filepath.Join(dir, "cosign.key"),
		PublicPath:  filepath.Join(dir, "cosign.pub"),
		Password:    password,
		PublicPEM:   kb.PublicBytes,
		PrivatePEM:  kb.PrivateBytes,
	}
	if err := os.WriteFile(k.PrivatePath, kb.PrivateBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.PublicPath, kb.PublicBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// KeyOnlyTrustedRoot is a trusted root with no authorities at all: what
// "cosign verify-blob --key … --new-bundle-format" needs as --trusted-root
// when nothing but the key is trusted.
const KeyOnlyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`

// WriteKeyOnlyTrustedRoot writes KeyOnlyTrustedRoot to a temporary file
// and returns its path.
func WriteKeyOnlyTrustedRoot(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, []byte(KeyOnlyTrustedRoot), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// SecretLines returns the lines of the private key's PEM that give it away
// (its base64 body, not the BEGIN/END lines), for tests that look for the
// key in logs, errors and files.
func (k CosignKey) SecretLines() []string {
	var out []string
	for _, l := range strings.Split(string(k.PrivatePEM), "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}
