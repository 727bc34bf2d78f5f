package policy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

// keyPolicy is a policy naming one key file and one GPG key file, read
// through files, so that each test gives their content.
const keyPolicy = header + "keys:\n  - name: release\n    path: release.pub\n"
const gpgPolicy = header + "gpgKeys:\n  - name: maintainer\n    path: maintainer.asc\n"

func parseWithFile(doc string, file []byte) error {
	_, err := policy.Parse([]byte(doc), policy.Options{Name: "policy.yaml", ReadFile: func(string) ([]byte, error) { return file, nil }})
	return err
}

func ecPrivatePEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func gpgPrivateArmored(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestKeyFilesEveryBlock is the regression test for a key file whose first
// PEM block is a public key and whose second is a private key: only the
// first block was read, and the file was accepted.
func TestKeyFilesEveryBlock(t *testing.T) {
	t.Parallel()
	_, pub := policytest.NewKeypair(t)
	_, pub2 := policytest.NewKeypair(t)
	priv := ecPrivatePEM(t)
	e, gpgPub := policytest.NewGPGKey(t, "maintainer")
	_, gpgPub2 := policytest.NewGPGKey(t, "other")
	gpgPriv := gpgPrivateArmored(t, e)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name, doc string
		file      []byte
		want      string // "" for accepted
	}{
		{"one public key", keyPolicy, pub, ""},
		{"public key, surrounding blank lines", keyPolicy, cat([]byte("\n\n"), pub, []byte("\n")), ""},
		{"public then private key", keyPolicy, cat(pub, priv), `field "keys[0].path": PEM block 2 of 2 holds a private key (-----BEGIN EC PRIVATE KEY-----)`},
		{"private then public key", keyPolicy, cat(priv, pub), `PEM block 1 of 2 holds a private key (-----BEGIN EC PRIVATE KEY-----)`},
		{"public key then a broken private key", keyPolicy, cat(pub, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nnot base64!\n")), "PEM block 2 of 2 holds a private key (-----BEGIN OPENSSH PRIVATE KEY-----)"},
		{"public key then private text", keyPolicy, cat(pub, []byte("PRIVATE KEY follows\n")), `holds a private key ("PRIVATE KEY follows", after PEM block 1)`},
		{"public key then garbage", keyPolicy, cat(pub, []byte("trailing\n")), "has text after PEM block 1 that is not a PEM block"},
		{"text before the key", keyPolicy, cat([]byte("comment\n"), pub), "holds no PEM block"},
		{"two public keys", keyPolicy, cat(pub, pub2), "PEM block 2 of 2 is a second public key; give each key its own entry"},
		{"a certificate after the key", keyPolicy, cat(pub, cert), `PEM block 2 of 2 is a "CERTIFICATE" block`},
		{"gpg public key", gpgPolicy, gpgPub, ""},
		{"gpg two public key blocks", gpgPolicy, cat(gpgPub, gpgPub2), ""},
		{"gpg public then private block", gpgPolicy, cat(gpgPub, gpgPriv), `field "gpgKeys[0].path": armored block 2 of 2 holds a private key (-----BEGIN PGP PRIVATE KEY BLOCK-----)`},
		{"gpg private block alone", gpgPolicy, gpgPriv, "armored block 1 of 1 holds a private key"},
		{"gpg public then garbage", gpgPolicy, cat(gpgPub, []byte("junk\n")), "has text after armored block 1"},
		{"gpg public then a signature block", gpgPolicy, cat(gpgPub, policytest.GPGSign(t, e, strings.NewReader("x"))), `armored block 2 is "-----BEGIN PGP SIGNATURE-----", not a public key block`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := parseWithFile(tc.doc, tc.file)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Parse() = %v, want it accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestTwoGPGBlocksTrustBoth checks that every public key block of a GPG
// key file is read, not only the first.
func TestTwoGPGBlocksTrustBoth(t *testing.T) {
	t.Parallel()
	_, a := policytest.NewGPGKey(t, "a")
	_, b := policytest.NewGPGKey(t, "b")
	p, err := policy.Parse([]byte(gpgPolicy), policy.Options{Name: "policy.yaml", ReadFile: func(string) ([]byte, error) { return append(a, b...), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.GPGKeys[0].Fingerprints); n != 2 {
		t.Fatalf("the key file's two blocks gave %d keys, want 2", n)
	}
}

// FuzzKeyFiles feeds arbitrary key files to the PEM and armored key
// parsers: they must never panic, and never accept a file that holds a
// private key marker.
func FuzzKeyFiles(f *testing.F) {
	_, pub := policytest.NewKeypair(f)
	_, gpgPub := policytest.NewGPGKey(f, "m")
	f.Add(pub)
	f.Add(gpgPub)
	f.Add(append(append([]byte{}, pub...), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"...))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, doc := range []string{keyPolicy, gpgPolicy} {
			err := parseWithFile(doc, data)
			if err == nil && bytes.Contains(data, []byte("PRIVATE KEY")) {
				t.Fatalf("accepted a key file holding a private key marker: %q", data)
			}
			var pe *policy.Error
			if err != nil && !errors.As(unjoin(err)[0], &pe) {
				t.Fatalf("error %T %v is not a *policy.Error", err, err)
			}
		}
	})
}
