package verify_test

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy/policytest"
)

func (f *fixture) gpgSign(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	return f.gpgSignWith(t, func(w io.Writer, r io.Reader) error {
		_, err := w.Write(policytest.GPGSign(t, e, r))
		return err
	})
}

// gpgSignWith opens the subject and signs it with sign (one of go-crypto's
// detached-signature functions), returning the signature.
func (f *fixture) gpgSignWith(t *testing.T, sign func(w io.Writer, r io.Reader) error) []byte {
	t.Helper()
	fh, err := os.Open(f.subject)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var b bytes.Buffer
	if err := sign(&b, fh); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGPG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		make     func(t *testing.T, f *fixture) []string
		verified bool
		want     []string
	}{
		{
			name: "signed by the policy key", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "app.tar.gz.asc", f.gpgSign(t, f.gpg))}
			},
			want: []string{"PASS signature  app.tar.gz.asc: OpenPGP signature of the subject's content by key ", `(policy gpg key "maintainer"), made `},
		},
		{
			name: "binary signature", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				b := f.gpgSignWith(t, func(w io.Writer, r io.Reader) error { return openpgp.DetachSign(w, f.gpg, r, nil) })
				return []string{f.write(t, "app.tar.gz.sig", b)}
			},
			want: []string{"PASS signature  app.tar.gz.sig: OpenPGP signature"},
		},
		{
			// SHA-512 and text signatures are hashed by the verifier beside
			// the SHA-256; binary SHA-256 ones take the SHA-256's state.
			name: "SHA-512 signature", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				b := f.gpgSignWith(t, func(w io.Writer, r io.Reader) error {
					return openpgp.ArmoredDetachSign(w, f.gpg, r, &packet.Config{DefaultHash: crypto.SHA512})
				})
				return []string{f.write(t, "app.tar.gz.asc", b)}
			},
			want: []string{"PASS signature  app.tar.gz.asc: OpenPGP signature"},
		},
		{
			name: "text signature", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				b := f.gpgSignWith(t, func(w io.Writer, r io.Reader) error { return openpgp.ArmoredDetachSignText(w, f.gpg, r, nil) })
				return []string{f.write(t, "app.tar.gz.asc", b)}
			},
			want: []string{"PASS signature  app.tar.gz.asc: OpenPGP signature"},
		},
		{
			name: "changed artifact, SHA-512 signature",
			make: func(t *testing.T, f *fixture) []string {
				b := f.gpgSignWith(t, func(w io.Writer, r io.Reader) error {
					return openpgp.ArmoredDetachSign(w, f.gpg, r, &packet.Config{DefaultHash: crypto.SHA512})
				})
				sig := f.write(t, "app.tar.gz.asc", b)
				appendTo(t, f.subject, "x")
				return []string{sig}
			},
			want: []string{"FAIL signature  app.tar.gz.asc: the OpenPGP signature does not match the subject's content (changed file or signature)"},
		},
		{
			name: "with Sigstore bundles, in the same read", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				return []string{
					f.write(t, "app.tar.gz.asc", f.gpgSign(t, f.gpg)),
					f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{})),
				}
			},
			want: []string{"PASS signature  app.tar.gz.asc", "PASS signature  app.tar.gz.sigstore.json", "PASS digest     app.tar.gz.sigstore.json"},
		},
		{
			name: "changed artifact",
			make: func(t *testing.T, f *fixture) []string {
				b := f.write(t, "app.tar.gz.asc", f.gpgSign(t, f.gpg))
				appendTo(t, f.subject, "x")
				return []string{b}
			},
			want: []string{"FAIL signature  app.tar.gz.asc: the OpenPGP signature does not match the subject's content (changed file or signature)"},
		},
		{
			name: "another key",
			make: func(t *testing.T, f *fixture) []string {
				other, _ := policytest.NewGPGKey(t, "mallory")
				return []string{f.write(t, "app.tar.gz.asc", f.gpgSign(t, other))}
			},
			want: []string{"FAIL signature  app.tar.gz.asc: signed by OpenPGP key ", "which is not a signing key of any policy gpgKeys entry (maintainer "},
		},
		{
			name: "changed signature",
			make: func(t *testing.T, f *fixture) []string {
				sig := f.gpgSign(t, f.gpg)
				lines := strings.Split(string(sig), "\n")
				for i, l := range lines { // flip a character of the last base64 body line
					if i > 2 && len(l) > 20 && !strings.HasPrefix(l, "-----") && !strings.HasPrefix(l, "=") {
						c := byte('A')
						if l[10] == 'A' {
							c = 'B'
						}
						lines[i] = l[:10] + string(c) + l[11:]
					}
				}
				return []string{f.write(t, "app.tar.gz.asc", []byte(strings.Join(lines, "\n")))}
			},
			want: []string{"FAIL "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			expect(t, f.verify(t, f.policy(t, ""), tc.make(t, f)...), tc.verified, tc.want...)
		})
	}
}

func TestGPGFingerprintInReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.write(t, "app.tar.gz.asc", f.gpgSign(t, f.gpg))
	fp := strings.ToUpper(hex.EncodeToString(f.gpg.PrimaryKey.Fingerprint))
	s := f.verify(t, f.policy(t, ""), b)
	expect(t, s, true, "by key "+fp+" (policy gpg key")
	if s.Checks[0].Signer != "maintainer" {
		t.Errorf("signer = %q, want maintainer", s.Checks[0].Signer)
	}
}

// TestReadsSubjectOnce verifies a subject with a Sigstore bundle, a SHA-384
// message digest bundle and an OpenPGP signature, and counts the bytes the
// process read meanwhile (rchar of /proc/self/io): the digests and the
// signature all come from one read of the subject. (It once read a named
// pipe, which can be read only once; only regular files are read now.) It
// does not run in parallel, so that no other test reads meanwhile.
func TestReadsSubjectOnce(t *testing.T) {
	f := newFixture(t)
	kp384, err := sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp384.GetPublicKeyPem()
	f.write(t, "keys/p384.pub", []byte(pub))
	f.extraKeys = []string{"p384"}
	bundles := []string{
		f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{})),
		f.write(t, "b.sigstore.json", f.signBlob(t, kp384, sign.BundleOptions{})),
		f.write(t, "c.asc", f.gpgSign(t, f.gpg)),
	}
	p := f.policy(t, "")
	fi, err := os.Stat(f.subject)
	if err != nil {
		t.Fatal(err)
	}
	before := readBytes(t)
	s := f.verify(t, p, bundles...)
	read := readBytes(t) - before
	expect(t, s, true,
		"PASS digest     a.sigstore.json", "PASS digest     b.sigstore.json: the signed message digest is the subject's sha384:", "PASS signature  c.asc")
	if read < fi.Size() || read > fi.Size()+fi.Size()/2 {
		t.Errorf("verifying read %d bytes for a subject of %d: want one read of it (plus its small bundles)", read, fi.Size())
	}
}

// readBytes is the number of bytes this process has read (rchar).
func readBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("/proc/self/io has no rchar:\n%s", b)
	return 0
}
