package sigstoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sigstore/rekor/pkg/generated/client/entries"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/sigstore-go/pkg/sign"
)

// The services of a Sigstore for sigstore-go's sign.BundleOptions, in
// process: a certificate provider, a transparency log and a timestamp
// authority whose times default to the Sigstore's clock and can be set
// apart from it (to sign "in the past", or with a log time outside a
// certificate's validity).

// OIDs of Fulcio's issuer extensions.
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
	c.s.Certificates.Add(1)
	return x509.CreateCertificate(rand.Reader, tmpl, c.s.caInter, kp.GetPublicKey(), c.s.caInterKey)
}

// Rekor returns the Sigstore's transparency log for
// sign.BundleOptions.TransparencyLogs, integrating entries at its clock.
func (s *Sigstore) Rekor() sign.Transparency { return s.RekorAt(time.Time{}) }

// RekorAt is Rekor integrating entries at time at.
func (s *Sigstore) RekorAt(at time.Time) sign.Transparency {
	return sign.NewRekor(&sign.RekorOptions{BaseURL: s.RekorURL, Client: &rekorClient{s: s, at: at}})
}

// rekorClient is Rekor's create-entry call, answered in process.
type rekorClient struct {
	s  *Sigstore
	at time.Time
}

func (l *rekorClient) CreateLogEntry(params *entries.CreateLogEntryParams, _ ...entries.ClientOption) (*entries.CreateLogEntryCreated, error) {
	at := l.at
	if at.IsZero() {
		at = l.s.Now()
	}
	uuid, entry, err := l.s.appendEntry(params.ProposedEntry, at)
	if err != nil {
		return nil, err
	}
	return &entries.CreateLogEntryCreated{ETag: uuid, Payload: models.LogEntry{uuid: entry}}, nil
}

// TSA returns the Sigstore's timestamp authority for sign.BundleOptions,
// stamping at its clock.
func (s *Sigstore) TSA() *sign.TimestampAuthority { return s.TSAAt(time.Time{}) }

// TSAAt is TSA stamping at time at.
func (s *Sigstore) TSAAt(at time.Time) *sign.TimestampAuthority {
	return sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.TSAURL, Transport: &tsaTransport{s: s, at: at}})
}

// tsaTransport answers RFC 3161 requests in process.
type tsaTransport struct {
	s  *Sigstore
	at time.Time
}

func (a *tsaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	at := a.at
	if at.IsZero() {
		at = a.s.Now()
	}
	resp, err := a.s.stamp(body, at)
	if err != nil {
		return &http.Response{StatusCode: http.StatusBadRequest, Body: io.NopCloser(bytes.NewReader([]byte(err.Error()))), Request: r}, nil
	}
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/timestamp-reply"}},
		Body: io.NopCloser(bytes.NewReader(resp)), Request: r,
	}, nil
}
