package verify

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/slipway/actions/internal/policy"
)

// messageHashes maps a bundle's message digest algorithm to its hash.
var messageHashes = map[string]crypto.Hash{"SHA2_256": crypto.SHA256, "SHA2_384": crypto.SHA384, "SHA2_512": crypto.SHA512}

// messageHash returns the hash a message-signature bundle signs, to compute
// during the read.
func messageHash(ev *evidence) (crypto.Hash, bool) {
	md := ev.sigstore.GetMessageSignature().GetMessageDigest()
	if md == nil {
		return 0, false
	}
	h, ok := messageHashes[md.GetAlgorithm().String()]
	return h, ok
}

// signed is what verifying a Sigstore bundle's signature established.
type signed struct {
	signer string // policy signer name
	desc   string // who signed, for the report
	result *sgverify.VerificationResult
}

// checkSigstore verifies one Sigstore bundle: its signature by a policy
// signer (with its log entries and timestamps as the policy says), that it
// signs the subject's digest, and, for an attestation, what it attests.
func (v *Verifier) checkSigstore(rep *SubjectReport, ev *evidence, sums map[crypto.Hash][]byte, s Subject, f *found) {
	b := ev.sigstore
	// The signed content is read from the bundle's protobuf fields, not
	// through SignatureContent, which copies a DSSE payload into a new
	// base64 string at every call: with a large inline SBOM that is most
	// of verify's memory.
	msg, env := b.GetMessageSignature(), b.GetDsseEnvelope()
	if msg == nil && env == nil {
		rep.fail(CheckBundle, ev.path, "has no signature content: neither a message signature nor a DSSE envelope")
		return
	}
	entries, _ := b.TlogEntries()
	if v.policy.Tlog == policy.TlogRequired && len(entries) == 0 {
		rep.fail(CheckTlog, ev.path, "has no transparency log entry, and the policy requires one (tlog: required); sign with the log enabled (not --tlog-upload=false)")
		return
	}
	var artifactOpt sgverify.ArtifactPolicyOption
	alg, signedDigest := msg.GetMessageDigest().GetAlgorithm().String(), msg.GetMessageDigest().GetDigest()
	if msg != nil {
		if _, ok := messageHashes[alg]; !ok {
			rep.fail(CheckDigest, ev.path, "signs a %s digest, which is not supported; sign with SHA-256", alg)
			return
		}
		artifactOpt = sgverify.WithArtifactDigest(strings.ToLower(strings.ReplaceAll(alg, "SHA2_", "sha")), signedDigest)
	} else {
		// The envelope's statement names the subject; it is checked below,
		// once the envelope's signature is known to be good.
		artifactOpt = sgverify.WithoutArtifactUnsafe()
	}
	sig, check, err := v.verifySigstoreSignature(b, artifactOpt, msg == nil)
	if err != nil {
		rep.fail(check, ev.path, "%v", err)
		return
	}
	rep.pass(CheckSignature, ev.path, sig.signer, "sigstore bundle signed by %s", sig.desc)
	times := v.bundleTimes(rep, ev, b, sig.result)

	if ev.simpleSigning != nil {
		v.checkSimpleSigning(rep, ev, sums[crypto.SHA256], f, times)
		return
	}
	if msg != nil {
		h := messageHashes[alg]
		name := hashName(h)
		if sums[h] == nil {
			rep.fail(CheckDigest, ev.path, "signs a %s digest, but only the subject's sha256 digest is known (an image); sign with SHA-256", name)
			return
		}
		if !bytes.Equal(sums[h], signedDigest) {
			rep.fail(CheckDigest, ev.path, "the bundle signs %s:%s, but the subject is %s:%s: the subject or the bundle changed",
				name, hex.EncodeToString(signedDigest), name, hex.EncodeToString(sums[h]))
			return
		}
		rep.pass(CheckDigest, ev.path, "", "the signed message digest is the subject's %s:%s", name, hex.EncodeToString(sums[h]))
		f.signed = true
		f.times = append(f.times, times...)
		return
	}
	v.checkStatement(rep, ev, env.GetPayloadType(), env.GetPayload(), sums[crypto.SHA256], s, f, times)
}

// verifySigstoreSignature verifies the bundle's signature, log entries and
// timestamps with each policy signer that could have made it. On failure it
// returns the check that failed and why.
func (v *Verifier) verifySigstoreSignature(b *bundle.Bundle, artifactOpt sgverify.ArtifactPolicyOption, dsse bool) (*signed, string, error) {
	p := v.policy
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, CheckBundle, fmt.Errorf("has no verification material: %v", err)
	}
	if cert := vc.Certificate(); cert != nil {
		if len(p.Identities) == 0 {
			return nil, CheckSignature, fmt.Errorf("is signed keylessly (certificate for %s), but the policy lists no identities; add the signer under identities", certName(cert.URIs, cert.EmailAddresses))
		}
		opts := v.verifierOptions(b, true)
		verifier, err := sgverify.NewVerifier(p.TrustedRoot, opts...)
		if err != nil {
			return nil, CheckSignature, fmt.Errorf("configuring verification: %v", err)
		}
		res, err := verifier.Verify(b, sgverify.NewPolicy(artifactOpt, sgverify.WithoutIdentitiesUnsafe()))
		if err != nil {
			check, msg := classify(err, b, p)
			return nil, check, errors.New(msg)
		}
		c := res.Signature.Certificate
		id, ok := p.MatchIdentity(c.Issuer, c.SubjectAlternativeName)
		if !ok {
			var names []string
			for _, id := range p.Identities {
				names = append(names, id.Name)
			}
			return nil, CheckSignature, fmt.Errorf("is signed by %q (issuer %q), which matches no policy identity (%s)", c.SubjectAlternativeName, c.Issuer, strings.Join(names, ", "))
		}
		return &signed{signer: id.Name, result: res,
			desc: fmt.Sprintf("%q (issuer %q, policy identity %q)", c.SubjectAlternativeName, c.Issuer, id.Name)}, "", nil
	}
	if vc.PublicKey() == nil {
		return nil, CheckBundle, errors.New("has neither a certificate nor a public key hint")
	}
	if len(p.Keys) == 0 {
		return nil, CheckSignature, errors.New("is signed with a key, but the policy lists no keys; add the public key under keys")
	}
	var detail string
	for _, k := range p.Keys {
		res, err := v.verifyWithKey(b, k, artifactOpt, dsse)
		if err == nil {
			return &signed{signer: k.Name, result: res, desc: fmt.Sprintf("key %s (policy key %q)", k.Fingerprint, k.Name)}, "", nil
		}
		check, msg := classify(err, b, p)
		if check != CheckSignature {
			// Logs and timestamps are checked before the key: every key
			// would fail the same way.
			return nil, check, errors.New(msg)
		}
		if detail == "" {
			detail = err.Error()
		}
	}
	var names []string
	for _, k := range p.Keys {
		names = append(names, fmt.Sprintf("%s %s", k.Name, k.Fingerprint))
	}
	return nil, CheckSignature, fmt.Errorf("the signature does not verify with any policy key (%s): %s; the bundle's key hint is %q: signed by another key, or the signature or what it signs changed",
		strings.Join(names, "; "), detail, vc.PublicKey().Hint())
}

func (v *Verifier) verifyWithKey(b *bundle.Bundle, k policy.Key, artifactOpt sgverify.ArtifactPolicyOption, dsse bool) (*sgverify.VerificationResult, error) {
	var loadOpts []signature.LoadOption
	if _, ok := k.PublicKey.(ed25519.PublicKey); ok && !dsse {
		// Sigstore message signatures with Ed25519 keys are Ed25519ph.
		loadOpts = append(loadOpts, options.WithED25519ph())
	}
	sv, err := signature.LoadDefaultVerifier(k.PublicKey, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading policy key %q: %w", k.Name, err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	var tm root.TrustedMaterial = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	if v.policy.TrustedRoot != nil {
		tm = root.TrustedMaterialCollection{v.policy.TrustedRoot, tm}
	}
	verifier, err := sgverify.NewVerifier(tm, v.verifierOptions(b, false)...)
	if err != nil {
		return nil, err
	}
	return verifier.Verify(b, sgverify.NewPolicy(artifactOpt, sgverify.WithKey()))
}

// usesTlog reports whether the bundle's log entries are verified: always
// with tlog required, when it has some with tlog optional.
func (v *Verifier) usesTlog(b *bundle.Bundle) bool {
	entries, _ := b.TlogEntries()
	return v.policy.Tlog == policy.TlogRequired || v.policy.Tlog == policy.TlogOptional && len(entries) > 0
}

// verifierOptions turns the policy's transparency settings into
// sigstore-go's for one bundle.
func (v *Verifier) verifierOptions(b *bundle.Bundle, keyless bool) []sgverify.VerifierOption {
	p := v.policy
	var opts []sgverify.VerifierOption
	tlog := v.usesTlog(b)
	if tlog {
		opts = append(opts, sgverify.WithTransparencyLog(p.Thresholds.TlogEntries))
	}
	observers := p.Thresholds.ObserverTimestamps
	if keyless && observers < 1 {
		observers = 1
	}
	switch {
	case observers > 0:
		opts = append(opts, sgverify.WithObserverTimestamps(observers))
	case tlog:
		// Keep the log's integrated times for maxAge, without requiring any.
		opts = append(opts, sgverify.WithIntegratedTimestamps(0))
	default:
		opts = append(opts, sgverify.WithNoObserverTimestamps())
	}
	if keyless && p.Thresholds.SignedCertificateTimestamps > 0 {
		opts = append(opts, sgverify.WithSignedCertificateTimestamps(p.Thresholds.SignedCertificateTimestamps))
	}
	return opts
}

// classify turns a sigstore-go verification error into the check that
// failed and a message saying what to do.
func classify(err error, b *bundle.Bundle, p *policy.Policy) (string, string) {
	s := err.Error()
	entries, _ := b.TlogEntries()
	switch {
	case strings.Contains(s, "outside certificate validity"):
		return CheckSignature, "the signing certificate was not valid at the transparency log's integrated time (expired or not yet valid when signed): " + s
	case strings.HasPrefix(s, "failed to verify log inclusion"):
		return CheckTlog, "the transparency log entry does not verify against the trusted root " + quoteOr(p.TrustedRootPath) + ": " + s
	case strings.HasPrefix(s, "failed to verify timestamps"):
		msg := "not enough verified timestamps: " + s
		if len(entries) > 0 && p.Tlog == policy.TlogOff {
			msg += `; the bundle has transparency log entries, whose integrated times count once the policy uses the log (tlog: optional)`
		} else {
			msg += "; sign with a timestamp authority or a transparency log the trusted root lists"
		}
		return CheckTimestamp, msg
	case strings.HasPrefix(s, "failed to verify leaf certificate"):
		return CheckSignature, leafCertificateProblem(b, p) + ": " + s
	case strings.HasPrefix(s, "failed to verify signed certificate timestamp"):
		return CheckSignature, "the signing certificate's SCTs do not verify: " + s
	}
	return CheckSignature, "the signature does not verify: " + s
}

// leafCertificateProblem explains why a keyless bundle's certificate did
// not verify: it was not valid at a verified signing time, or it does not
// chain to the trusted root's certificate authority.
func leafCertificateProblem(b *bundle.Bundle, p *policy.Policy) string {
	vc, err := b.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		return "the signing certificate does not verify"
	}
	cert := vc.Certificate()
	window := fmt.Sprintf("valid %s to %s", stamp(cert.NotBefore), stamp(cert.NotAfter))
	if p.TrustedRoot != nil {
		if verified, _, err := sgverify.VerifySignedTimestamp(b, p.TrustedRoot); err == nil {
			for _, ts := range verified {
				if ts.Time.Before(cert.NotBefore) || ts.Time.After(cert.NotAfter) {
					return fmt.Sprintf("the signing certificate (%s) was not valid at the signing time %s (RFC 3161 timestamp): it had expired or was not yet valid", window, stamp(ts.Time))
				}
			}
		}
	}
	return fmt.Sprintf("the signing certificate (%s, issued by %q) does not chain to the trusted root's certificate authority at the signing time", window, cert.Issuer.String())
}

func quoteOr(s string) string {
	if s == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

func certName(uris []*url.URL, emails []string) string {
	for _, u := range uris {
		return fmt.Sprintf("%q", u.String())
	}
	for _, e := range emails {
		return fmt.Sprintf("%q", e)
	}
	return "an unnamed subject"
}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	}
	return "sha256"
}
