package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/slipway/actions/internal/digest"
)

// keypair adapts a sigstore SignerVerifier (a decrypted cosign key, a KMS
// key or an ephemeral keyless key) to sigstore-go's sign.Keypair, so that
// sigstore-go's Fulcio, Rekor and TSA clients can use it, and adds signing
// of a precomputed SHA-256 digest.
//
// Every signature is over SHA-256: the artifact digest is SHA-256, and
// cosign verifies --key signatures with SHA-256 whatever the curve.
type keypair struct {
	sv      signature.SignerVerifier
	pub     crypto.PublicKey
	pem     string
	hint    []byte
	keyAlg  string
	details protocommon.PublicKeyDetails
}

func newKeypair(sv signature.SignerVerifier, pub crypto.PublicKey) (*keypair, error) {
	kp := &keypair{sv: sv, pub: pub}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		kp.keyAlg = "ECDSA"
		switch k.Curve.Params().BitSize {
		case 256:
			kp.details = protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
		case 384:
			kp.details = protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_256
		case 521:
			kp.details = protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_256
		default:
			return nil, fmt.Errorf("ECDSA curve %s is not supported; use P-256, P-384 or P-521", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		kp.keyAlg = "RSA"
		switch k.Size() * 8 {
		case 2048:
			kp.details = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256
		case 3072:
			kp.details = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256
		case 4096:
			kp.details = protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256
		default:
			return nil, fmt.Errorf("RSA key size %d is not supported; use 2048, 3072 or 4096 bits", k.Size()*8)
		}
	case ed25519.PublicKey:
		return nil, fmt.Errorf("ed25519 keys cannot sign a precomputed SHA-256 digest (Ed25519 hashes the whole message itself); use an ECDSA or RSA key, e.g. from \"cosign generate-key-pair\"")
	default:
		return nil, fmt.Errorf("public key type %T is not supported; use an ECDSA or RSA key", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	h := sha256.Sum256(der)
	kp.hint = []byte(base64.StdEncoding.EncodeToString(h[:]))
	pemBytes, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	kp.pem = string(pemBytes)
	return kp, nil
}

// GetHashAlgorithm implements sign.Keypair.
func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

// GetSigningAlgorithm implements sign.Keypair.
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails { return k.details }

// GetHint implements sign.Keypair: base64 of the SHA-256 of the PKIX public
// key, as cosign and sigstore-go write it.
func (k *keypair) GetHint() []byte { return k.hint }

// GetKeyAlgorithm implements sign.Keypair (Fulcio's algorithm name).
func (k *keypair) GetKeyAlgorithm() string { return k.keyAlg }

// GetPublicKey implements sign.Keypair.
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.pub }

// GetPublicKeyPem implements sign.Keypair.
func (k *keypair) GetPublicKeyPem() (string, error) { return k.pem, nil }

// SignData implements sign.Keypair: it hashes data with SHA-256 and signs the
// digest. It is used for small inputs only (DSSE pre-authentication
// encodings, Fulcio's proof of possession).
func (k *keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	d := sha256.Sum256(data)
	sig, err := k.signDigest(ctx, d)
	return sig, d[:], err
}

// signDigest signs a precomputed SHA-256 digest.
func (k *keypair) signDigest(ctx context.Context, d digest.SHA256) ([]byte, error) {
	sig, err := k.sv.SignMessage(bytes.NewReader(nil),
		options.WithContext(ctx), options.WithDigest(d[:]), options.WithCryptoSignerOpts(crypto.SHA256))
	if err != nil {
		return nil, err
	}
	return sig, nil
}
