package signing

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// complete adds the verification material to a bundle whose content holds
// sig: the certificate (keyless) or the public key hint, then an RFC 3161
// timestamp over sig and a transparency log entry, in the order
// sigstore-go's sign.Bundle uses. (sign.Bundle itself signs the content's
// bytes, which for an artifact would mean reading it again; the services'
// clients are sigstore-go's.)
func (s *Signer) complete(ctx context.Context, pb *protobundle.Bundle, sig []byte) (*bundle.Bundle, error) {
	var verifierPEM []byte
	if s.fulcio != nil {
		cert, err := s.certificate(ctx)
		if err != nil {
			return nil, err
		}
		pb.VerificationMaterial = &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
		}
		verifierPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	} else {
		pb.VerificationMaterial = &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: string(s.kp.hint)}},
		}
		verifierPEM = []byte(s.kp.pem)
	}
	if s.tsa != nil {
		ts, err := s.tsa.GetTimestamp(ctx, sig)
		if err != nil {
			return nil, exitcode.Infra(fmt.Errorf("getting an RFC 3161 timestamp: %w; check tsa-url, or leave it empty for no timestamp", err))
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts}},
		}
		s.log.Debug("got RFC 3161 timestamp", "bytes", len(ts))
	}
	if s.rekor != nil {
		if err := s.rekor.GetTransparencyLogEntry(ctx, verifierPEM, pb); err != nil {
			if ctx.Err() == nil && isTimeout(err) {
				// Rekor's client takes no transport: its requests are bounded
				// as a whole, and its timeout error names no limit.
				err = &timeouts.Error{Peer: "Rekor", Host: s.rekorURL, Phase: timeouts.CallPhase, After: s.timeout}
			}
			return nil, exitcode.Infra(fmt.Errorf("adding the signature to the transparency log: %w; check rekor-url, or set tlog to false where no log is reachable", err))
		}
		if n := len(pb.VerificationMaterial.TlogEntries); n > 0 {
			s.log.Debug("logged signature", "logIndex", pb.VerificationMaterial.TlogEntries[n-1].LogIndex)
		}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("assembling the bundle: %w", err))
	}
	return b, nil
}

// certificate returns a Fulcio certificate for the ephemeral key, asking
// for a new one (with a fresh token) when there is none or it is about to
// expire.
func (s *Signer) certificate(ctx context.Context) (*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cert != nil && s.now().Add(certRenewMargin).Before(s.cert.NotAfter) {
		return s.cert, nil
	}
	token, err := s.token(ctx)
	if err != nil {
		return nil, err
	}
	der, err := s.fulcio.GetCertificate(ctx, s.kp, &sign.CertificateProviderOptions{IDToken: token})
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("getting a signing certificate from Fulcio: %w; check fulcio-url and that the OIDC token's issuer is one Fulcio trusts", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("parsing the certificate from Fulcio: %w", err))
	}
	s.log.Debug("got signing certificate", "notAfter", cert.NotAfter, "san", certSAN(cert))
	s.cert = cert
	return cert, nil
}

// Prepare does ahead of time the network work the first signature would
// do: for keyless signing it fetches an OIDC token and a Fulcio
// certificate, so that a caller can overlap it with hashing an artifact.
// It does nothing for a key.
func (s *Signer) Prepare(ctx context.Context) error {
	if s.fulcio == nil {
		return nil
	}
	_, err := s.certificate(ctx)
	return err
}

// Certificate returns the current keyless certificate, nil for a key or
// before the first signature.
func (s *Signer) Certificate() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cert
}

// certSAN returns the certificate's identity: its first URI or e-mail SAN.
func certSAN(c *x509.Certificate) string {
	for _, u := range c.URIs {
		return u.String()
	}
	for _, e := range c.EmailAddresses {
		return e
	}
	return ""
}

// Identity describes who signs: the certificate's subject alternative name
// for keyless (after the first signature or Prepare), the URI of a KMS key,
// else the cosign key's hint.
func (s *Signer) Identity() string {
	if c := s.Certificate(); c != nil {
		return certSAN(c)
	}
	switch {
	case s.fulcio != nil:
		return "keyless"
	case s.ref.Kind == KeyKMS:
		return "KMS key " + s.ref.URI
	}
	return "cosign key " + string(s.kp.hint)
}

// Ensure the adapter satisfies sigstore-go's interface.
var _ sign.Keypair = (*keypair)(nil)

// isTimeout reports whether err is a request that ran out of time.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
