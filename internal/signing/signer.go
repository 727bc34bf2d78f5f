package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// BundleMediaType is the media type of the bundles this package produces.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// The public-good Sigstore instance, the defaults of the sign stage.
const (
	PublicFulcioURL = "https://fulcio.sigstore.dev"
	PublicRekorURL  = "https://rekor.sigstore.dev"
)

// maxKeyFileSize bounds a cosign key file; real ones are under 1 KiB.
const maxKeyFileSize = 64 << 10

// TokenSource returns a fresh OIDC identity token for Fulcio. It is called
// each time a certificate is needed.
type TokenSource func(ctx context.Context) (string, error)

// Options selects the key and the Sigstore services.
type Options struct {
	// Key is a cosign private key file, a KMS URI or env://NAME (see
	// ParseKeyRef). Empty selects KeyPEM or else keyless signing, which
	// needs IDToken and FulcioURL.
	Key string
	// KeyPEM is an encrypted cosign private key's PEM itself (the
	// COSIGN_KEY secret), used when Key is empty.
	KeyPEM []byte
	// Getenv reads the variable an env://NAME key names; nil is "no
	// variables".
	Getenv func(string) string
	// Password decrypts a cosign key file (the COSIGN_PASSWORD secret).
	Password []byte
	// IDToken supplies OIDC tokens for keyless signing.
	IDToken TokenSource
	// FulcioURL is the Fulcio instance that issues keyless certificates.
	FulcioURL string
	// RekorURL is the Rekor instance that logs each signature; empty means
	// no transparency log entry (air-gapped sites, "tlog: false").
	RekorURL string
	// TSAURL is the full URL of an RFC 3161 timestamp authority; empty means
	// no signed timestamp.
	TSAURL string
	// HTTP is the client for Fulcio and the TSA (its Transport is used);
	// nil means http.DefaultTransport.
	HTTP *http.Client
	// Timeout bounds each request to Fulcio, Rekor or the TSA; 0 means
	// Net.Connect+Net.Response.
	Timeout time.Duration
	// Net bounds the waits on the network: each call to a KMS, and
	// Timeout's default; zero fields are the defaults.
	Net timeouts.Config
	// Log receives progress at debug level; nil discards it.
	Log *slog.Logger
	// Now is the clock used to renew keyless certificates; nil is time.Now.
	Now func() time.Time
}

// Signer produces Sigstore bundles with one key. It is safe for concurrent
// use. A keyless Signer holds one ephemeral key and reuses its certificate
// until shortly before it expires.
type Signer struct {
	kp     *keypair
	ref    KeyRef
	fulcio sign.CertificateProvider
	rekor  sign.Transparency
	// rekorURL and timeout name Rekor and the limit of its requests, whose
	// client takes no transport.
	rekorURL string
	timeout  time.Duration
	tsa      *sign.TimestampAuthority
	token    TokenSource
	log      *slog.Logger
	now      func() time.Time

	mu   sync.Mutex
	cert *x509.Certificate // keyless: the current certificate
}

// certRenewMargin is how long before its expiry a keyless certificate is
// replaced: a signature must be made and logged while it is valid.
const certRenewMargin = 2 * time.Minute

// New loads the key that opts names and connects the Sigstore clients. Bad
// input (a missing key file, a wrong password, an unknown URI scheme) is an
// exitcode.BadInput error; an unreachable KMS is exitcode.Infra.
func New(ctx context.Context, opts Options) (*Signer, error) {
	ref, err := ParseKeyRef(opts.Key)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"key\": %w", err))
	}
	return newSigner(ctx, ref, opts)
}

// newSigner is New for a parsed key reference.
func newSigner(ctx context.Context, ref KeyRef, opts Options) (*Signer, error) {
	var err error
	s := &Signer{ref: ref, token: opts.IDToken, log: opts.Log, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	opts.Net = opts.Net.WithDefaults()
	if opts.Timeout == 0 {
		opts.Timeout = opts.Net.Connect + opts.Net.Response
	}
	s.rekorURL, s.timeout = opts.RekorURL, opts.Timeout
	transport := opts.Net.Transport("")
	if opts.HTTP != nil && opts.HTTP.Transport != nil {
		transport = opts.HTTP.Transport
	}

	key, isKey, err := readKey(ref, opts)
	if err != nil {
		return nil, err
	}
	var sv signature.SignerVerifier
	switch {
	case isKey:
		sv, err = key.decrypt(opts.Password)
	case ref.Kind == KeyKMS:
		sv, err = loadKMS(ctx, ref, opts.Net, opts.Getenv)
	default:
		if opts.IDToken == nil {
			return nil, exitcode.BadInputf("keyless signing needs an OIDC token source (internal error: no TokenSource given)")
		}
		if opts.FulcioURL == "" {
			return nil, exitcode.BadInputf("keyless signing needs a Fulcio URL; set fulcio-url (%q for the public instance)", PublicFulcioURL)
		}
		sv, err = ephemeralKey()
		s.fulcio = sign.NewFulcio(&sign.FulcioOptions{BaseURL: strings.TrimRight(opts.FulcioURL, "/"), Timeout: opts.Timeout, Retries: 2, Transport: transport})
	}
	if err != nil {
		return nil, err
	}
	pub, err := sv.PublicKey(options.WithContext(ctx))
	if err != nil {
		if ref.Kind == KeyKMS {
			return nil, exitcode.Infra(fmt.Errorf("reading the public key of KMS key %q: %w; check the URI and the provider's credentials in the environment", ref.URI, err))
		}
		return nil, exitcode.Infra(fmt.Errorf("reading the public key: %w", err))
	}
	if s.kp, err = newKeypair(sv, pub); err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("key %q: %w", ref.String(), err))
	}
	if opts.RekorURL != "" {
		s.rekor = sign.NewRekor(&sign.RekorOptions{BaseURL: strings.TrimRight(opts.RekorURL, "/"), Timeout: opts.Timeout, Retries: 2})
	}
	if opts.TSAURL != "" {
		s.tsa = sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: opts.TSAURL, Timeout: opts.Timeout, Retries: 2, Transport: transport})
	}
	return s, nil
}

// decrypted holds the cosign keys this process has decrypted, by the SHA-256
// of the encrypted PEM and its password, so that stages run in one process
// (slipway pipeline: sign, then attest) pay cosign's scrypt once — about as
// long as hashing 250 MB. It lives in this process's memory only, like the
// decrypted key of a single stage.
var decrypted sync.Map // [sha256.Size]byte → signature.SignerVerifier

func decryptedID(kb, password []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(kb)
	h.Write([]byte{0})
	h.Write(password)
	var id [sha256.Size]byte
	h.Sum(id[:0])
	return id
}

func ephemeralKey() (signature.SignerVerifier, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("generating an ephemeral key: %w", err))
	}
	return signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
}

// Keyless reports whether s signs with Fulcio certificates.
func (s *Signer) Keyless() bool { return s.fulcio != nil }

// PublicKey returns the public key of the signing key (for keyless, the
// ephemeral key its certificates certify).
func (s *Signer) PublicKey() crypto.PublicKey { return s.kp.pub }

// PublicKeyPEM returns PublicKey in PEM ("PUBLIC KEY"), the form of cosign.pub.
func (s *Signer) PublicKeyPEM() string { return s.kp.pem }

// KeyHint returns the public key hint that key-based bundles carry: base64
// of the SHA-256 of the PKIX-encoded public key.
func (s *Signer) KeyHint() string { return string(s.kp.hint) }

// SignDigest signs a precomputed SHA-256 digest of an artifact and returns a
// bundle holding a MessageSignature over it. The artifact is not read.
func (s *Signer) SignDigest(ctx context.Context, d digest.SHA256) (*bundle.Bundle, error) {
	if d.IsZero() {
		return nil, fmt.Errorf("signing digest: the digest is zero (internal error: no digest was computed)")
	}
	sig, err := s.kp.signDigest(ctx, d)
	if err != nil {
		return nil, s.signErr(err)
	}
	pb := &protobundle.Bundle{
		MediaType: BundleMediaType,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: d[:]},
			Signature:     sig,
		}},
	}
	return s.complete(ctx, pb, sig)
}

// SignDSSE signs payload in a DSSE envelope of type payloadType (for an
// in-toto statement, "application/vnd.in-toto+json") and returns a bundle
// holding the envelope. The payload is held in memory: it is a statement,
// never an artifact.
func (s *Signer) SignDSSE(ctx context.Context, payloadType string, payload []byte) (*bundle.Bundle, error) {
	if payloadType == "" {
		return nil, fmt.Errorf("signing DSSE envelope: the payload type is empty; use \"application/vnd.in-toto+json\" for in-toto statements")
	}
	content := &sign.DSSEData{Data: payload, PayloadType: payloadType}
	sig, d, err := s.kp.SignData(ctx, content.PreAuthEncoding())
	if err != nil {
		return nil, s.signErr(err)
	}
	pb := &protobundle.Bundle{MediaType: BundleMediaType}
	content.Bundle(pb, sig, d, protocommon.HashAlgorithm_SHA2_256)
	return s.complete(ctx, pb, sig)
}

func (s *Signer) signErr(err error) error {
	if s.ref.Kind == KeyKMS {
		return exitcode.Infra(fmt.Errorf("signing with KMS key %q: %w; check the key's algorithm (ECDSA or RSA with SHA-256) and the credentials' sign permission", s.ref.URI, err))
	}
	return exitcode.Infra(fmt.Errorf("signing: %w", err))
}
