package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/slipway/actions/internal/policy/policytest"
)

// detachSign returns binary OpenPGP signature packets over content.
func detachSign(t *testing.T, e *openpgp.Entity, content []byte, text bool, h crypto.Hash) []byte {
	t.Helper()
	var b bytes.Buffer
	cfg := &packet.Config{DefaultHash: h}
	sign := openpgp.DetachSign
	if text {
		sign = openpgp.DetachSignText
	}
	if err := sign(&b, e, bytes.NewReader(content), cfg); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSharesSHA256(t *testing.T) {
	t.Parallel()
	e, _ := policytest.NewGPGKey(t, "maintainer")
	content := []byte("the artifact\n")
	binary256 := detachSign(t, e, content, false, crypto.SHA256)
	tests := []struct {
		name string
		raw  []byte
		want bool
	}{
		{"binary SHA-256 v4", binary256, true},
		{"binary SHA-512", detachSign(t, e, content, false, crypto.SHA512), false},
		{"text SHA-256 (line endings canonicalized)", detachSign(t, e, content, true, crypto.SHA256), false},
		{"two signatures", append(append([]byte{}, binary256...), binary256...), false},
		{"not OpenPGP", []byte("nonsense"), false},
		{"empty", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := sharesSHA256(tc.raw); got != tc.want {
				t.Errorf("sharesSHA256 = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestReadSubjectSharedSHA256 checks that taking the subject's SHA-256 state
// gives the same outcomes as hashing the bytes again in the verifier: a good
// signature passes, and a changed subject or another signer fails.
func TestReadSubjectSharedSHA256(t *testing.T) {
	t.Parallel()
	signer, _ := policytest.NewGPGKey(t, "maintainer")
	other, _ := policytest.NewGPGKey(t, "mallory")
	content := bytes.Repeat([]byte("0123456789abcdef"), 300_000) // several 1 MiB buffers, and a partial one
	sig := detachSign(t, signer, content, false, crypto.SHA256)
	if !sharesSHA256(sig) {
		t.Fatal("a v4 binary SHA-256 signature must share the SHA-256")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	changed := filepath.Join(dir, "changed")
	if err := os.WriteFile(good, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(changed, append(append([]byte{}, content...), 'x'), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cfg := &packet.Config{Time: func() time.Time { return now }}
	tests := []struct {
		name    string
		path    string
		keyring openpgp.EntityList
		want    string // "" (passes), "signature" (a pgperrors.SignatureError) or "issuer" (ErrUnknownIssuer)
	}{
		{"good", good, openpgp.EntityList{signer}, ""},
		{"changed subject", changed, openpgp.EntityList{signer}, "signature"},
		{"another signer's key", good, openpgp.EntityList{other}, "issuer"},
	}
	for _, tc := range tests {
		for _, shared := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				check := gpgCheck{sig: sig, keyring: tc.keyring, cfg: cfg, sharesSHA256: shared}
				res, err := readSubject(context.Background(), Subject{Path: tc.path}, []crypto.Hash{crypto.SHA256, crypto.SHA384}, []gpgCheck{check})
				if err != nil {
					t.Fatal(err)
				}
				got := res.gpg[0].err
				var se pgperrors.SignatureError
				switch {
				case tc.want == "" && (got != nil || res.gpg[0].signer != signer):
					t.Fatalf("shared=%v: err = %v, signer %v; want a pass by the maintainer's key", shared, got, res.gpg[0].signer)
				case tc.want == "signature" && !errors.As(got, &se):
					t.Fatalf("shared=%v: err = %v, want a signature error", shared, got)
				case tc.want == "issuer" && !errors.Is(got, pgperrors.ErrUnknownIssuer):
					t.Fatalf("shared=%v: err = %v, want ErrUnknownIssuer", shared, got)
				}
				if sum := sha256.Sum256(mustRead(t, tc.path)); !bytes.Equal(res.sums[crypto.SHA256], sum[:]) {
					t.Errorf("shared=%v: SHA-256 digest is wrong", shared)
				}
			})
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSHA256StateFailsClosed: the stand-in for the subject's bytes never
// lets a check pass unless it sets an empty SHA-256 to the subject's state.
func TestSHA256StateFailsClosed(t *testing.T) {
	t.Parallel()
	subject := sha256.New()
	subject.Write([]byte("the artifact"))
	ready := func() *sha256State {
		s := &sha256State{ready: make(chan struct{})}
		s.set(subject, 12, nil)
		return s
	}
	if _, err := ready().Read(make([]byte, 10)); err == nil {
		t.Error("Read succeeded; it must fail")
	}
	used := sha256.New()
	used.Write([]byte("salt"))
	for name, w := range map[string]interface {
		Write([]byte) (int, error)
	}{"SHA-512": sha512.New(), "a used SHA-256": used, "a buffer": &bytes.Buffer{}} {
		if _, err := ready().WriteTo(w); err == nil {
			t.Errorf("WriteTo(%s) succeeded; it must fail", name)
		}
	}
	failed := &sha256State{ready: make(chan struct{})}
	failed.set(subject, 0, errors.New("disk on fire"))
	if _, err := failed.WriteTo(sha256.New()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("WriteTo after a failed read: err = %v, want the read's error", err)
	}
	h := sha256.New()
	n, err := ready().WriteTo(h)
	if err != nil || n != 12 {
		t.Fatalf("WriteTo(empty SHA-256) = %d, %v", n, err)
	}
	want, _ := subject.(encoding.BinaryMarshaler).MarshalBinary()
	got, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	if !bytes.Equal(got, want) {
		t.Error("the verifier's hash did not get the subject's state")
	}
}
