package policytest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/digitorus/timestamp"
	"github.com/go-openapi/swag/conv"
	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/util"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"
)

// OIDs of Fulcio's certificate extensions.
var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

// CertificateAuthority issues Fulcio-style certificates for one identity;
// it is a sign.CertificateProvider.
type CertificateAuthority struct {
	s               *Sigstore
	Issuer, Subject string
	// NotBefore starts the certificate's ten-minute validity; the
	// Sigstore's clock when zero.
	NotBefore time.Time
}

// Fulcio returns a certificate provider certifying subject (a URI, such as
// a GitHub workflow ref, or an email address) as issued by issuer.
func (s *Sigstore) Fulcio(issuer, subject string) *CertificateAuthority {
	return &CertificateAuthority{s: s, Issuer: issuer, Subject: subject}
}

// GetCertificate implements sign.CertificateProvider.
func (c *CertificateAuthority) GetCertificate(_ context.Context, kp sign.Keypair, _ *sign.CertificateProviderOptions) ([]byte, error) {
	nb := c.NotBefore
	if nb.IsZero() {
		nb = c.s.Now()
	}
	issuerV2, err := asn1.MarshalWithParams(c.Issuer, "utf8")
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		NotBefore:    nb,
		NotAfter:     nb.Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{
			{Id: oidIssuerV1, Value: []byte(c.Issuer)},
			{Id: oidIssuerV2, Value: issuerV2},
		},
	}
	if u, err := url.Parse(c.Subject); err == nil && u.Scheme != "" {
		tmpl.URIs = []*url.URL{u}
	} else {
		tmpl.EmailAddresses = []string{c.Subject}
	}
	return x509.CreateCertificate(rand.Reader, tmpl, c.s.caInter, kp.GetPublicKey(), c.s.caInterKey)
}

// transparencyLog answers Rekor's create-entry call the way Rekor v1 does:
// the canonicalized entry, its integrated time, a signed entry timestamp
// and an inclusion proof with a signed checkpoint.
type transparencyLog struct {
	s  *Sigstore
	at time.Time
}

// Rekor returns a transparency log for sign.BundleOptions.TransparencyLogs,
// integrating entries at the Sigstore's current time.
func (s *Sigstore) Rekor() sign.Transparency { return s.RekorAt(time.Time{}) }

// RekorAt is Rekor integrating entries at time at.
func (s *Sigstore) RekorAt(at time.Time) sign.Transparency {
	return sign.NewRekor(&sign.RekorOptions{BaseURL: RekorURL, Client: &transparencyLog{s: s, at: at}})
}

func (l *transparencyLog) CreateLogEntry(params *entries.CreateLogEntryParams, _ ...entries.ClientOption) (*entries.CreateLogEntryCreated, error) {
	ctx := context.Background()
	impl, err := types.CreateVersionedEntry(params.ProposedEntry)
	if err != nil {
		return nil, fmt.Errorf("rekor: %w", err)
	}
	body, err := types.CanonicalizeEntry(ctx, impl)
	if err != nil {
		return nil, fmt.Errorf("rekor: canonicalizing: %w", err)
	}
	at := l.at
	if at.IsZero() {
		at = l.s.Now()
	}
	l.s.mu.Lock()
	index := l.s.logIndex
	l.s.logIndex++
	l.s.mu.Unlock()
	id, err := logID(l.s.rekorKey.Public())
	if err != nil {
		return nil, err
	}
	hexID := hex.EncodeToString(id)
	payload, err := json.Marshal(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: at.Unix(), LogIndex: index, LogID: hexID,
	})
	if err != nil {
		return nil, err
	}
	canonical, err := jsoncanonicalizer.Transform(payload)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canonical)
	set, err := l.s.rekorKey.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	// A tree of one leaf: the entry's leaf hash is the root.
	leaf := sha256.Sum256(append([]byte{0}, body...))
	signer, err := signature.LoadECDSASignerVerifier(l.s.rekorKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	checkpoint, err := util.CreateAndSignCheckpoint(ctx, "rekor.slipway.test", 1, 1, leaf[:], signer)
	if err != nil {
		return nil, err
	}
	rootHash := hex.EncodeToString(leaf[:])
	uuid := hex.EncodeToString(leaf[:])
	return &entries.CreateLogEntryCreated{ETag: uuid, Payload: models.LogEntry{uuid: models.LogEntryAnon{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: conv.Pointer(at.Unix()),
		LogID:          conv.Pointer(hexID),
		LogIndex:       conv.Pointer(index),
		Verification: &models.LogEntryAnonVerification{
			SignedEntryTimestamp: set,
			InclusionProof: &models.InclusionProof{
				Checkpoint: conv.Pointer(string(checkpoint)),
				Hashes:     []string{},
				LogIndex:   conv.Pointer(int64(0)),
				RootHash:   &rootHash,
				TreeSize:   conv.Pointer(int64(1)),
			},
		},
	}}}, nil
}

// timestampAuthority answers RFC 3161 requests over an http.RoundTripper.
type timestampAuthority struct {
	s  *Sigstore
	at time.Time
}

// TSA returns a timestamp authority for sign.BundleOptions, stamping at the
// Sigstore's current time.
func (s *Sigstore) TSA() *sign.TimestampAuthority { return s.TSAAt(time.Time{}) }

// TSAAt is TSA stamping at time at.
func (s *Sigstore) TSAAt(at time.Time) *sign.TimestampAuthority {
	return sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: TSAURI + "/api/v1/timestamp", Transport: &timestampAuthority{s: s, at: at}})
}

func (a *timestampAuthority) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		return &http.Response{StatusCode: http.StatusBadRequest, Body: io.NopCloser(bytes.NewReader([]byte(err.Error()))), Request: r}, nil
	}
	at := a.at
	if at.IsZero() {
		at = a.s.Now()
	}
	ts := timestamp.Timestamp{
		HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: at,
		Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, ExtraExtensions: req.Extensions,
	}
	resp, err := ts.CreateResponseWithOpts(a.s.tsaLeaf, a.s.tsaLeafKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/timestamp-reply"}},
		Body: io.NopCloser(bytes.NewReader(resp)), Request: r,
	}, nil
}
