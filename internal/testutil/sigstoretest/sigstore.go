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

// Sigstore is a private Sigstore. Started (Start), it runs on loopback HTTP
// servers that speak the real services' wire formats:
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
// Made with New, it has the same authorities without servers, for signing
// in-process with sigstore-go's sign package (Fulcio, Rekor, TSA).
//
// TrustedRoot is the trusted_root.json that verifies what they issue. Its
// authorities are valid from a year before the Sigstore's clock to a year
// after, so that tests can sign "in the past" (WithClock).
type Sigstore struct {
	FulcioURL, RekorURL, TSAURL string
	// Issuer is the OIDC provider Fulcio trusts (Start).
	Issuer *Issuer

	caRoot, caInter *x509.Certificate
	caInterKey      *ecdsa.PrivateKey
	tsaRoot         *x509.Certificate
	tsaInter        *x509.Certificate
	tsaLeaf         *x509.Certificate
	tsaLeafKey      *ecdsa.PrivateKey
	rekorKey        *ecdsa.PrivateKey
	ctKey           *ecdsa.PrivateKey // nil without WithCTLog
	githubIssuer    bool              // WithGitHubIssuer
	validFrom       time.Time
	validTo         time.Time

	mu    sync.Mutex
	tree  *testonly.Tree
	fixed bool      // the clock is set (WithClock, SetNow)
	now   time.Time // the set clock

	// Certificates, Entries and Timestamps count what was issued.
	Certificates, Entries, Timestamps atomic.Int64
}

// Option configures a Sigstore.
type Option func(*Sigstore)

// WithClock sets the Sigstore's clock to now; it moves only by SetNow.
// Certificates, log entries and timestamps take their time from it.
// Without it the clock is the current time.
func WithClock(now time.Time) Option {
	return func(s *Sigstore) { s.fixed, s.now = true, now }
}

// WithCTLog lists a certificate transparency log in the trusted root. The
// certificates still carry no SCTs: it is for tests of SCT requirements.
func WithCTLog() Option {
	return func(s *Sigstore) { s.ctKey = genKeyOrPanic() }
}

// WithGitHubIssuer makes Fulcio certify the tokens of its issuer (Start's
// iss) as GitHub Actions workflow identities, whatever its URL: the subject
// https://github.com/JOB_WORKFLOW_REF and GitHub's extensions, as real
// Fulcio does for GitHub.com's issuer and for any issuer its configuration
// gives the github-workflow type (a GitHub Enterprise Server's). For an
// issuer served locally (StartOIDCIssuer), which another verifier, such as
// a control plane, also fetches keys from. Without it only tokens of
// GitHubIssuer are.
func WithGitHubIssuer() Option {
	return func(s *Sigstore) { s.githubIssuer = true }
}

// New makes a private Sigstore's authorities without servers; its URLs are
// names only.
func New(t testing.TB, opts ...Option) *Sigstore {
	t.Helper()
	s := &Sigstore{
		FulcioURL: "https://fulcio.sigstoretest.invalid", RekorURL: "https://rekor.sigstoretest.invalid",
		TSAURL: "https://tsa.sigstoretest.invalid/api/v1/timestamp", tree: testonly.New(rfc6962.DefaultHasher),
	}
	for _, o := range opts {
		o(s)
	}
	now := s.Now()
	s.validFrom, s.validTo = now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0)
	var rootKey, tsaRootKey, tsaInterKey *ecdsa.PrivateKey
	s.caRoot, rootKey = s.ca(t, "sigstoretest root", nil, nil, true, nil)
	s.caInter, s.caInterKey = s.ca(t, "sigstoretest fulcio", s.caRoot, rootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	s.tsaRoot, tsaRootKey = s.ca(t, "sigstoretest tsa root", nil, nil, true, nil)
	s.tsaInter, tsaInterKey = s.ca(t, "sigstoretest tsa intermediate", s.tsaRoot, tsaRootKey, true, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.tsaLeaf, s.tsaLeafKey = s.ca(t, "sigstoretest tsa", s.tsaInter, tsaInterKey, false, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping})
	s.rekorKey = genKey(t)
	return s
}

// Start starts a private Sigstore trusting tokens from iss.
func Start(t testing.TB, iss *Issuer, opts ...Option) *Sigstore {
	t.Helper()
	s := New(t, opts...)
	s.Issuer = iss

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

// Now returns the Sigstore's clock.
func (s *Sigstore) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fixed {
		return s.now
	}
	return time.Now()
}

// SetNow sets the Sigstore's clock (its authorities' validity stays).
func (s *Sigstore) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fixed, s.now = true, t
}

func genKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// genKeyOrPanic is genKey for options, which have no testing.TB; P-256 key
// generation fails only when the system's randomness does.
func genKeyOrPanic() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(1000 + serial.Add(1)) }

// ca makes a CA (or TSA leaf) certificate valid for the Sigstore's whole
// window, self-signed when parent is nil.
func (s *Sigstore) ca(t testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, eku []x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := genKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"sigstoretest"}},
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

// TrustedRoot returns the trusted root of this Sigstore. Without WithCTLog
// it lists no CT log: its certificates carry no SCTs, so verifiers must not
// require them.
func (s *Sigstore) TrustedRoot(t testing.TB) *root.TrustedRoot {
	t.Helper()
	tlog := func(key *ecdsa.PrivateKey, url string) map[string]*root.TransparencyLog {
		id := logID(key.Public())
		return map[string]*root.TransparencyLog{hex.EncodeToString(id): {
			BaseURL: url, ID: id, ValidityPeriodStart: s.validFrom,
			HashFunc: crypto.SHA256, PublicKey: key.Public(), SignatureHashFunc: crypto.SHA256,
		}}
	}
	var ctlogs map[string]*root.TransparencyLog
	if s.ctKey != nil {
		ctlogs = tlog(s.ctKey, "https://ctfe.sigstoretest.invalid")
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{
			Root: s.caRoot, Intermediates: []*x509.Certificate{s.caInter}, ValidityPeriodStart: s.validFrom, URI: s.FulcioURL,
		}},
		ctlogs,
		[]root.TimestampingAuthority{&root.SigstoreTimestampingAuthority{
			Root: s.tsaRoot, Intermediates: []*x509.Certificate{s.tsaInter}, Leaf: s.tsaLeaf, ValidityPeriodStart: s.validFrom, URI: s.TSAURL,
		}},
		tlog(s.rekorKey, s.RekorURL))
	if err != nil {
		t.Fatalf("building the trusted root: %v", err)
	}
	return tr
}

// TrustedRootJSON returns the trusted root as trusted_root.json holds it.
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	b, err := s.TrustedRoot(t).MarshalJSON()
	if err != nil {
		t.Fatalf("encoding the trusted root: %v", err)
	}
	return b
}

// WriteTrustedRoot writes trusted_root.json to a temporary directory and
// returns its path (for cosign --trusted-root).
func (s *Sigstore) WriteTrustedRoot(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, s.TrustedRootJSON(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
