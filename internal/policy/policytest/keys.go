package policytest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/sigstore/sigstore-go/pkg/sign"
)

// NewKeypair returns a fresh ECDSA P-256 key pair for key-based Sigstore
// signing, and its public key in PEM (what cosign.pub holds).
func NewKeypair(t testing.TB) (*sign.EphemeralKeypair, []byte) {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatalf("generating a key pair: %v", err)
	}
	pub, err := kp.GetPublicKeyPem()
	if err != nil {
		t.Fatalf("encoding a public key: %v", err)
	}
	return kp, []byte(pub)
}

// NewGPGKey returns a fresh OpenPGP key (Ed25519, as gpg makes by default)
// and its armored public key.
func NewGPGKey(t testing.TB, name string) (*openpgp.Entity, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "test", name+"@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatalf("generating an OpenPGP key: %v", err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatalf("exporting an OpenPGP public key: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return e, b.Bytes()
}

// GPGSign returns an armored detached signature of content by e.
func GPGSign(t testing.TB, e *openpgp.Entity, content io.Reader) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, e, content, nil); err != nil {
		t.Fatalf("signing with OpenPGP: %v", err)
	}
	return b.Bytes()
}

// WriteFile writes data to dir/name, creating directories, and returns the
// path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
