package policytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Names the private Sigstore uses in its trusted root and certificates.
const (
	FulcioURI = "https://fulcio.slipway.test"
	RekorURL  = "https://rekor.slipway.test"
	TSAURI    = "https://tsa.slipway.test"
	// GitHubIssuer is the OIDC issuer of GitHub Actions tokens.
	GitHubIssuer = "https://token.actions.githubusercontent.com"
)

// Sigstore is a private Sigstore for one test: a certificate authority
// issuing Fulcio-style code-signing certificates, a transparency log and a
// timestamp authority. Its clock is the test's: Now decides the time of
// certificates, log entries and timestamps. Everything is valid from a year
// before creation to a year after, so tests can sign "in the past".
type Sigstore struct {
	mu  sync.Mutex
	now time.Time

	caRoot, caInter *x509.Certificate
	caInterKey      *ecdsa.PrivateKey
	tsaRoot         *x509.Certificate
	tsaInter        *x509.Certificate
	tsaLeaf         *x509.Certificate
	tsaLeafKey      *ecdsa.PrivateKey
	rekorKey        *ecdsa.PrivateKey
	ctKey           *ecdsa.PrivateKey
	validFrom       time.Time
	validTo         time.Time
	logIndex        int64
}

// NewSigstore starts a private Sigstore whose clock reads the current time.
func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	s := &Sigstore{now: now, validFrom: now.AddDate(-1, 0, 0), validTo: now.AddDate(1, 0, 0)}
	var rootKey, tsaRootKey, tsaInterKey *ecdsa.PrivateKey
	s.caRoot, rootKey = s.cert(t, "slipway test root", nil, nil, true, nil)
	s.caInter, s.caInterKey = s.cert(t, "slipway test fulcio", s.caRoot, rootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	s.tsaRoot, tsaRootKey = s.cert(t, "slipway test tsa root", nil, nil, true, nil)
	s.tsaInter, tsaInterKey = s.cert(t, "slipway test tsa intermediate", s.tsaRoot, tsaRootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.tsaLeaf, s.tsaLeafKey = s.cert(t, "slipway test tsa", s.tsaInter, tsaInterKey, false, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.rekorKey = newKey(t)
	s.ctKey = newKey(t)
	return s
}

// Now returns the Sigstore's current time.
func (s *Sigstore) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// SetNow sets the Sigstore's clock.
func (s *Sigstore) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

// cert makes a CA or TSA certificate valid for the Sigstore's whole window,
// self-signed when parent is nil.
func (s *Sigstore) cert(t testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, eku []x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"slipway.test"}},
		NotBefore:             s.validFrom,
		NotAfter:              s.validTo,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		// A timestamping leaf must mark its extended key usage critical
		// (RFC 3161 section 2.3).
		ekuTimestamping := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
		value, err := asn1.Marshal([]asn1.ObjectIdentifier{ekuTimestamping})
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: value}}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("creating certificate %q: %v", cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func logID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

// TrustedRoot returns the Sigstore's trusted root.
func (s *Sigstore) TrustedRoot(t testing.TB) *root.TrustedRoot {
	t.Helper()
	tlog := func(key *ecdsa.PrivateKey) map[string]*root.TransparencyLog {
		id, err := logID(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		return map[string]*root.TransparencyLog{hex.EncodeToString(id): {
			BaseURL: RekorURL, ID: id, ValidityPeriodStart: s.validFrom,
			HashFunc: crypto.SHA256, PublicKey: key.Public(), SignatureHashFunc: crypto.SHA256,
		}}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root: s.caRoot, Intermediates: []*x509.Certificate{s.caInter},
			ValidityPeriodStart: s.validFrom, URI: FulcioURI,
		}},
		tlog(s.ctKey),
		[]root.TimestampingAuthority{&root.SigstoreTimestampingAuthority{
			Root: s.tsaRoot, Intermediates: []*x509.Certificate{s.tsaInter}, Leaf: s.tsaLeaf,
			ValidityPeriodStart: s.validFrom, URI: TSAURI,
		}},
		tlog(s.rekorKey))
	if err != nil {
		t.Fatalf("building the trusted root: %v", err)
	}
	return tr
}

// TrustedRootJSON returns the Sigstore's trusted_root.json.
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	b, err := s.TrustedRoot(t).MarshalJSON()
	if err != nil {
		t.Fatalf("encoding the trusted root: %v", err)
	}
	return b
}
