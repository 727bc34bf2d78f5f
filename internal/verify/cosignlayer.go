package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// cosign v2 stores an image's signatures and attestations, by default, as
// layers of two images tagged after the image's digest: "sha256-<hex>.sig"
// (simple-signing payloads, signed as they are) and "sha256-<hex>.att" (DSSE
// envelopes of in-toto statements). What a Sigstore bundle carries is in
// the layer's annotations instead: the signature, the certificate and its
// chain, the Rekor entry (with its signed entry timestamp, no inclusion
// proof) and an RFC 3161 timestamp. legacyBundle turns such a layer back
// into the bundle it stands for, so that the one verifier checks it.
const (
	cosignSignatureAnnotation   = "dev.cosignproject.cosign/signature"
	cosignCertificateAnnotation = "dev.sigstore.cosign/certificate"
	cosignChainAnnotation       = "dev.sigstore.cosign/chain"
	cosignBundleAnnotation      = "dev.sigstore.cosign/bundle"
	cosignTimestampAnnotation   = "dev.sigstore.cosign/rfc3161timestamp"

	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	dsseEnvelopeMediaType  = "application/vnd.dsse.envelope.v1+json"

	// simpleSigningType is critical.type of cosign's image signature payload.
	simpleSigningType = "cosign container image signature"
)

// Bundle media types: v0.1 carries a log entry with only an inclusion
// promise (what cosign's annotation holds) and a certificate chain; v0.3 is
// used when there is no log entry.
const (
	bundleV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
	bundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
)

// rekorBundle is cosign's "dev.sigstore.cosign/bundle" annotation.
type rekorBundle struct {
	SignedEntryTimestamp []byte
	Payload              struct {
		Body           string `json:"body"` // base64 of the canonicalized entry
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"` // hex
	}
}

// rfc3161Annotation is cosign's "dev.sigstore.cosign/rfc3161timestamp".
type rfc3161Annotation struct {
	SignedRFC3161Timestamp []byte
}

// dsseEnvelope is a DSSE envelope as JSON (base64 payload and signatures).
type dsseEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// legacyBundle converts one layer of a cosign .sig image (a simple-signing
// payload, mediaType simpleSigningMediaType) or .att image (a DSSE
// envelope, dsseEnvelopeMediaType) with its annotations into a Sigstore
// bundle: a message signature over the payload's SHA-256, or the envelope.
// An attestation's RFC 3161 timestamp is not carried over: cosign stamps the
// whole envelope, where a bundle's timestamp is over its signature.
func legacyBundle(mediaType string, content []byte, ann map[string]string) (*bundle.Bundle, error) {
	pb := &protobundle.Bundle{VerificationMaterial: &protobundle.VerificationMaterial{}}
	switch mediaType {
	case simpleSigningMediaType:
		sig, err := base64.StdEncoding.DecodeString(ann[cosignSignatureAnnotation])
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("annotation %q is not a base64 signature; sign the image again with cosign sign", cosignSignatureAnnotation)
		}
		sum := sha256.Sum256(content)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
	case dsseEnvelopeMediaType:
		env, err := parseEnvelope(content)
		if err != nil {
			return nil, err
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
	default:
		return nil, fmt.Errorf("has media type %q, neither a cosign signature (%s) nor an attestation (%s)", mediaType, simpleSigningMediaType, dsseEnvelopeMediaType)
	}
	certs, err := certificates(ann)
	if err != nil {
		return nil, err
	}
	if s := ann[cosignBundleAnnotation]; s != "" {
		entry, err := tlogEntry(s)
		if err != nil {
			return nil, err
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{entry}
	}
	if s := ann[cosignTimestampAnnotation]; s != "" && mediaType == simpleSigningMediaType {
		var ts rfc3161Annotation
		if err := json.Unmarshal([]byte(s), &ts); err != nil || len(ts.SignedRFC3161Timestamp) == 0 {
			return nil, fmt.Errorf("annotation %q is not cosign's RFC 3161 timestamp (%v)", cosignTimestampAnnotation, err)
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts.SignedRFC3161Timestamp}},
		}
	}
	pb.MediaType = bundleV03
	if len(pb.VerificationMaterial.TlogEntries) > 0 {
		pb.MediaType = bundleV01
	}
	switch {
	case len(certs) == 0:
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	case pb.MediaType == bundleV01:
		chain := &protocommon.X509CertificateChain{}
		for _, c := range certs {
			chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c})
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: chain}
	default:
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: certs[0]}}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("does not make a valid Sigstore bundle: %v", err)
	}
	return b, nil
}

// parseEnvelope reads a DSSE envelope's JSON.
func parseEnvelope(content []byte) (*protodsse.Envelope, error) {
	var e dsseEnvelope
	if err := json.Unmarshal(content, &e); err != nil {
		return nil, fmt.Errorf("is not a DSSE envelope: %v", err)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil || e.PayloadType == "" || len(e.Signatures) == 0 {
		return nil, fmt.Errorf("is not a DSSE envelope with a payload type, a base64 payload and a signature")
	}
	env := &protodsse.Envelope{Payload: payload, PayloadType: e.PayloadType}
	for _, s := range e.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("has a DSSE signature that is not base64")
		}
		env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: sig, Keyid: s.KeyID})
	}
	return env, nil
}

// certificates returns the DER of the certificate annotation's leaf
// followed by the chain annotation's certificates; none without a
// certificate (a key-signed layer).
func certificates(ann map[string]string) ([][]byte, error) {
	leaf := ann[cosignCertificateAnnotation]
	if leaf == "" {
		return nil, nil
	}
	var out [][]byte
	for _, a := range []string{cosignCertificateAnnotation, cosignChainAnnotation} {
		rest := []byte(ann[a])
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				return nil, fmt.Errorf("annotation %q holds a %q PEM block, not a certificate", a, block.Type)
			}
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				return nil, fmt.Errorf("annotation %q holds a certificate that does not parse: %v", a, err)
			}
			out = append(out, block.Bytes)
			if a == cosignCertificateAnnotation {
				break // the leaf only
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("annotation %q holds no PEM certificate", cosignCertificateAnnotation)
	}
	return out, nil
}

// tlogEntry converts cosign's Rekor bundle annotation into a log entry with
// an inclusion promise.
func tlogEntry(s string) (*protorekor.TransparencyLogEntry, error) {
	bad := func(why string) error {
		return fmt.Errorf("annotation %q is not a Rekor bundle: %s", cosignBundleAnnotation, why)
	}
	var rb rekorBundle
	if err := json.Unmarshal([]byte(s), &rb); err != nil {
		return nil, bad(err.Error())
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil || len(body) == 0 {
		return nil, bad("its body is not base64")
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) == 0 {
		return nil, bad("its logID is not hexadecimal")
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, bad("it has no SignedEntryTimestamp")
	}
	var kind struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kind); err != nil || kind.Kind == "" || kind.APIVersion == "" {
		return nil, bad("its body names no kind and apiVersion")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// simpleSigning is a cosign image signature's payload and the repository
// the image was read from.
type simpleSigning struct {
	payload    []byte
	repository name.Repository
}

// simpleSigningPayload is the part of the payload that binds it to an
// image: its digest and the repository it was signed in.
type simpleSigningPayload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// checkSimpleSigning checks what a verified cosign image signature signed:
// a simple-signing payload whose critical.image.docker-manifest-digest is
// the image's digest and whose critical.identity.docker-reference is the
// repository the image was read from (a signature copied along with the
// image to another repository does not vouch for it there).
func (v *Verifier) checkSimpleSigning(rep *SubjectReport, ev *evidence, sum []byte, f *found, times []timeEvidence) {
	var p simpleSigningPayload
	if err := json.Unmarshal(ev.simpleSigning.payload, &p); err != nil {
		rep.fail(CheckDigest, ev.path, "the signed payload is not cosign's simple-signing JSON: %v", err)
		return
	}
	c := p.Critical
	if c.Type != simpleSigningType {
		rep.fail(CheckDigest, ev.path, "the signed payload's critical.type is %q, not %q", c.Type, simpleSigningType)
		return
	}
	want := "sha256:" + hex.EncodeToString(sum)
	if !strings.EqualFold(c.Image.DockerManifestDigest, want) {
		rep.fail(CheckDigest, ev.path, "the signature is of image %q, but this image is %s: the signature was made for other content", c.Image.DockerManifestDigest, want)
		return
	}
	repo := ev.simpleSigning.repository.Name()
	if signed, err := name.ParseReference(c.Identity.DockerReference, name.WeakValidation); err != nil || signed.Context().Name() != repo {
		rep.fail(CheckDigest, ev.path, "the signature names repository %q (critical.identity.docker-reference), but the image was read from %q: it was signed for another repository; sign it where it is used",
			c.Identity.DockerReference, repo)
		return
	}
	rep.pass(CheckDigest, ev.path, "", "the signed payload names this image, %s in %q", want, repo)
	f.signed = true
	f.times = append(f.times, times...)
}
