package gpgsign

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/gpgtest"
)

// signFile signs the file at path the way the sign stage does: one read,
// the SHA-256 state shared when the key allows it, streamed otherwise.
func signFile(t *testing.T, s *Signer, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	var out bytes.Buffer
	if s.SharesSHA256() {
		if _, err := io.Copy(h, f); err != nil {
			t.Fatal(err)
		}
		if err := s.SignSHA256(&out, h); err != nil {
			t.Fatal(err)
		}
	} else {
		d, err := s.Start()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.MultiWriter(h, d), f); err != nil {
			t.Fatal(err)
		}
		if err := d.Finish(&out); err != nil {
			t.Fatal(err)
		}
	}
	sig := path + Extension
	if err := os.WriteFile(sig, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestSignVerifiesWithGPG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		algo, passphrase string
		shares           bool
	}{
		{"ed25519", "", true},
		{"ed25519", "s3cret pass", true},
		{"rsa3072", "", true},
		{"nistp384", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.algo+"/"+map[bool]string{true: "protected", false: "plain"}[tc.passphrase != ""], func(t *testing.T) {
			t.Parallel()
			key := gpgtest.NewKey(t, tc.algo, tc.passphrase)
			s, err := Load(key.Armored, []byte(tc.passphrase), nil)
			if err != nil {
				t.Fatalf("Load() error = %v", err)
			}
			if s.SharesSHA256() != tc.shares {
				t.Errorf("SharesSHA256() = %v, want %v", s.SharesSHA256(), tc.shares)
			}
			file := filepath.Join(t.TempDir(), "app.bin")
			if err := os.WriteFile(file, bytes.Repeat([]byte("slipway\n"), 100000), 0o644); err != nil {
				t.Fatal(err)
			}
			sig := signFile(t, s, file)
			b, _ := os.ReadFile(sig)
			if !bytes.HasPrefix(b, []byte("-----BEGIN PGP SIGNATURE-----")) {
				t.Errorf("signature is not armored:\n%s", b)
			}
			out, err := key.Verify(t, sig, file)
			if err != nil || !strings.Contains(out, "GOODSIG") {
				t.Fatalf("gpg --verify rejects our signature: %v\n%s", err, out)
			}
			if !strings.Contains(out, s.Fingerprint()) {
				t.Errorf("gpg output lacks fingerprint %s:\n%s", s.Fingerprint(), out)
			}
			if err := os.WriteFile(file, []byte("tampered\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := key.Verify(t, sig, file); err == nil || strings.Contains(out, "GOODSIG") {
				t.Fatalf("gpg --verify accepts a signature over a changed file:\n%s", out)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	key := gpgtest.NewKey(t, "ed25519", "right")
	tests := []struct {
		name, armored, pass, want string
	}{
		{"not armored", "/home/me/key.asc", "", "not an armored OpenPGP secret key"},
		{"public key", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n", "", "is a public key"},
		{"garbage armor", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n!!!\n-----END PGP PRIVATE KEY BLOCK-----\n", "", "reading the GPG key"},
		{"no passphrase", string(key.Armored), "", "set the GPG_PASSPHRASE secret"},
		{"wrong passphrase", string(key.Armored), "wrong", "GPG_PASSPHRASE secret is wrong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load([]byte(tc.armored), []byte(tc.pass), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load() error = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "wrong\"") {
				t.Errorf("error leaks the passphrase: %v", err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxcA4BGcAAAABEAC\n-----END PGP PRIVATE KEY BLOCK-----\n"), []byte("pw"))
	f.Add([]byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, armored, pass []byte) {
		s, err := Load(armored, pass, nil)
		if err == nil && s == nil {
			t.Fatal("Load() returned neither a signer nor an error")
		}
	})
}
