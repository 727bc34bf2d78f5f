package gpgsign

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MediaType is the media type of an armored detached signature.
const MediaType = "application/pgp-signature"

// Extension is appended to the signed file's name.
const Extension = ".asc"

// maxKeySize bounds the armored key input; real secret keys are a few KiB.
const maxKeySize = 1 << 20

// Signer signs with one OpenPGP signing key.
type Signer struct {
	key  *packet.PrivateKey
	hash crypto.Hash
	now  func() time.Time
}

// Load reads an armored OpenPGP secret key ("gpg --armor
// --export-secret-keys") and decrypts its signing key with passphrase when
// it is protected. now is the signatures' clock; nil is time.Now.
func Load(armored, passphrase []byte, now func() time.Time) (*Signer, error) {
	if now == nil {
		now = time.Now
	}
	if len(armored) > maxKeySize {
		return nil, fmt.Errorf("the GPG key is %d bytes, more than %d: it is not an armored secret key", len(armored), maxKeySize)
	}
	trimmed := bytes.TrimSpace(armored)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			return nil, errors.New("the GPG key is a public key; pass the secret key (gpg --armor --export-secret-keys KEYID)")
		}
		return nil, errors.New("the GPG key is not an armored OpenPGP secret key; pass the output of \"gpg --armor --export-secret-keys KEYID\" (the key itself, not a file name)")
	}
	list, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(trimmed))
	if err != nil {
		return nil, fmt.Errorf("reading the GPG key: %v; pass the output of \"gpg --armor --export-secret-keys KEYID\"", err)
	}
	for _, e := range list {
		k, ok := e.SigningKeyById(now(), 0)
		if !ok || k.PrivateKey == nil || k.PrivateKey.Dummy() {
			continue
		}
		if k.PrivateKey.Encrypted {
			if len(passphrase) == 0 {
				return nil, errors.New("the GPG key is protected by a passphrase; set the GPG_PASSPHRASE secret")
			}
			if err := k.PrivateKey.Decrypt(passphrase); err != nil {
				return nil, errors.New("decrypting the GPG key failed: the GPG_PASSPHRASE secret is wrong")
			}
		}
		return &Signer{key: k.PrivateKey, hash: hashFor(&k.PrivateKey.PublicKey), now: now}, nil
	}
	return nil, errors.New("the GPG key has no usable signing key (expired, revoked, or a stub without its secret part); export a key that can sign")
}

// hashFor returns SHA-256 unless the key's algorithm needs a longer hash.
func hashFor(pub *packet.PublicKey) crypto.Hash {
	switch pub.PubKeyAlgo {
	case packet.PubKeyAlgoEd448:
		return crypto.SHA512
	case packet.PubKeyAlgoECDSA, packet.PubKeyAlgoEdDSA:
		if c, err := pub.Curve(); err == nil {
			switch c {
			case packet.Curve448, packet.CurveNistP521, packet.CurveBrainpoolP512, packet.CurveBrainpoolP384, packet.CurveNistP384:
				return crypto.SHA512
			}
		}
	}
	return crypto.SHA256
}

// Fingerprint returns the signing key's fingerprint in upper-case hex, as
// gpg prints it.
func (s *Signer) Fingerprint() string {
	return strings.ToUpper(fmt.Sprintf("%x", s.key.PublicKey.Fingerprint))
}

// SharesSHA256 reports whether SignSHA256 can be used: the key signs
// SHA-256 without a salt (a v4 key), so the artifact's SHA-256 state is the
// OpenPGP data hash.
func (s *Signer) SharesSHA256() bool { return s.hash == crypto.SHA256 && s.key.PublicKey.Version == 4 }

func (s *Signer) config() *packet.Config {
	return &packet.Config{DefaultHash: s.hash, Time: s.now}
}

func (s *Signer) packet() *packet.Signature {
	return &packet.Signature{
		Version:           s.key.PublicKey.Version,
		SigType:           packet.SigTypeBinary,
		PubKeyAlgo:        s.key.PublicKey.PubKeyAlgo,
		Hash:              s.hash,
		CreationTime:      s.now(),
		IssuerKeyId:       &s.key.PublicKey.KeyId,
		IssuerKeyVersion:  uint8(s.key.PublicKey.Version),
		IssuerFingerprint: s.key.PublicKey.Fingerprint,
	}
}

// SignSHA256 writes an armored detached signature of the data whose running
// SHA-256 is data (everything written, nothing summed yet matters: Sum does
// not change a hash). data is cloned, not changed. It needs SharesSHA256
// and a data hash from crypto/sha256.
func (s *Signer) SignSHA256(w io.Writer, data hash.Hash) error {
	if !s.SharesSHA256() {
		return errors.New("this GPG key cannot sign from a SHA-256 state (internal error: check SharesSHA256 and use Start)")
	}
	m, ok := data.(encoding.BinaryMarshaler)
	if !ok {
		return fmt.Errorf("cloning the SHA-256 state: %T cannot be marshaled (internal error)", data)
	}
	state, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("cloning the SHA-256 state: %w", err)
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return fmt.Errorf("cloning the SHA-256 state: %w", err)
	}
	return s.finish(w, s.packet(), h)
}

// Detached is one signature being made: write the data to it, then call
// Finish.
type Detached struct {
	s   *Signer
	sig *packet.Signature
	h   hash.Hash
}

// Start begins a signature whose data is streamed through Write.
func (s *Signer) Start() (*Detached, error) {
	sig := s.packet()
	h, err := sig.PrepareSign(s.config())
	if err != nil {
		return nil, fmt.Errorf("preparing the OpenPGP signature: %w", err)
	}
	return &Detached{s: s, sig: sig, h: h}, nil
}

// Write hashes data. It never fails.
func (d *Detached) Write(p []byte) (int, error) { return d.h.Write(p) }

// Finish writes the armored detached signature of everything written.
func (d *Detached) Finish(w io.Writer) error { return d.s.finish(w, d.sig, d.h) }

func (s *Signer) finish(w io.Writer, sig *packet.Signature, h hash.Hash) error {
	if err := sig.Sign(h, s.key, s.config()); err != nil {
		return fmt.Errorf("making the OpenPGP signature: %w", err)
	}
	aw, err := armor.Encode(w, "PGP SIGNATURE", nil)
	if err != nil {
		return fmt.Errorf("armoring the OpenPGP signature: %w", err)
	}
	if err := sig.Serialize(aw); err != nil {
		return fmt.Errorf("writing the OpenPGP signature: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("writing the OpenPGP signature: %w", err)
	}
	_, err = io.WriteString(w, "\n")
	return err
}
