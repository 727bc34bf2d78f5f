package sigstoretest

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
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
)

// Sigstore is a private Sigstore on loopback HTTP servers that speak the
// real services' wire formats:
//
//   - Fulcio: POST /api/v2/signingCert with "Authorization: Bearer <JWT>"
//     and a public key with a proof of possession, answered with a
//     certificate chain; tokens must be signed by Issuer for audience
//     "sigstore"; GitHub Actions tokens get GitHub's identity
//     (https://github.com/<job_workflow_ref>) and Fulcio's GitHub extensions;
//   - Rekor v1: POST /api/v1/log/entries with a hashedrekord or dsse entry,
//     answered with the log entry, a signed entry timestamp and an
//     inclusion proof in a real Merkle tree with a signed checkpoint;
//   - an RFC 3161 timestamp authority: POST /api/v1/timestamp.
//
// TrustedRoot is the trusted_root.json that verifies what they issue.
type Sigstore struct {
	FulcioURL, RekorURL, TSAURL string
	// Issuer is the OIDC provider Fulcio trusts.
	Issuer *Issuer

	caRoot, caInter *x509.Certificate
	caInterKey      *ecdsa.PrivateKey
	tsaRoot         *x509.Certificate
	tsaInter        *x509.Certificate
	tsaLeaf         *x509.Certificate
	tsaLeafKey      *ecdsa.PrivateKey
	rekorKey        *ecdsa.PrivateKey
	validFrom       time.Time

	mu   sync.Mutex
	tree *testonly.Tree

	// Certificates, Entries and Timestamps count what was issued.
	Certificates, Entries, Timestamps atomic.Int64
}

// Start starts a private Sigstore trusting tokens from iss.
func Start(t testing.TB, iss *Issuer) *Sigstore {
	t.Helper()
	s := &Sigstore{Issuer: iss, validFrom: time.Now().Add(-time.Hour), tree: testonly.New(rfc6962.DefaultHasher)}
	var rootKey, tsaRootKey, tsaInterKey *ecdsa.PrivateKey
	s.caRoot, rootKey = s.ca(t, "sigstoretest root", nil, nil, true, nil)
	s.caInter, s.caInterKey = s.ca(t, "sigstoretest fulcio", s.caRoot, rootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	s.tsaRoot, tsaRootKey = s.ca(t, "sigstoretest tsa root", nil, nil, true, nil)
	s.tsaInter, tsaInterKey = s.ca(t, "sigstoretest tsa intermediate", s.tsaRoot, tsaRootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.tsaLeaf, s.tsaLeafKey = s.ca(t, "sigstoretest tsa", s.tsaInter, tsaInterKey, false, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.rekorKey = genKey(t)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/signingCert", s.fulcio)
	fulcio := httptest.NewServer(mux)
	t.Cleanup(fulcio.Close)
	s.FulcioURL = fulcio.URL

	mux = http.NewServeMux()
	mux.HandleFunc("POST /api/v1/log/entries", s.rekor)
	rekor := httptest.NewServer(mux)
	t.Cleanup(rekor.Close)
	s.RekorURL = rekor.URL

	mux = http.NewServeMux()
	mux.HandleFunc("POST /api/v1/timestamp", s.timestamp)
	tsa := httptest.NewServer(mux)
	t.Cleanup(tsa.Close)
	s.TSAURL = tsa.URL + "/api/v1/timestamp"
	return s
}

func genKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

// ca makes a CA (or TSA leaf) certificate valid for a day, self-signed when
// parent is nil.
func (s *Sigstore) ca(t testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, eku []x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := genKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"sigstoretest"}},
		NotBefore:             s.validFrom,
		NotAfter:              s.validFrom.Add(24 * time.Hour),
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		// RFC 3161 section 2.3: a TSA's extended key usage is critical.
		value, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtKeyUsage = nil
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

func logID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

// TrustedRoot returns the trusted root of this Sigstore (no CT log: its
// certificates carry no SCTs, so verifiers must not require them).
func (s *Sigstore) TrustedRoot(t testing.TB) *root.TrustedRoot {
	t.Helper()
	id := logID(s.rekorKey.Public())
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root: s.caRoot, Intermediates: []*x509.Certificate{s.caInter}, ValidityPeriodStart: s.validFrom, URI: s.FulcioURL,
		}},
		nil,
		[]root.TimestampingAuthority{&root.SigstoreTimestampingAuthority{
			Root: s.tsaRoot, Intermediates: []*x509.Certificate{s.tsaInter}, Leaf: s.tsaLeaf, ValidityPeriodStart: s.validFrom, URI: s.TSAURL,
		}},
		map[string]*root.TransparencyLog{hex.EncodeToString(id): {
			BaseURL: s.RekorURL, ID: id, ValidityPeriodStart: s.validFrom,
			HashFunc: crypto.SHA256, PublicKey: s.rekorKey.Public(), SignatureHashFunc: crypto.SHA256,
		}})
	if err != nil {
		t.Fatalf("building the trusted root: %v", err)
	}
	return tr
}

// WriteTrustedRoot writes trusted_root.json to a temporary directory and
// returns its path (for cosign --trusted-root).
func (s *Sigstore) WriteTrustedRoot(t testing.TB) string {
	t.Helper()
	b, err := s.TrustedRoot(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
