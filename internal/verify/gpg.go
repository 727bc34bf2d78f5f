package verify

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/slipway/actions/internal/policy"
)

// planGPG decides whether an OpenPGP signature is worth checking during the
// read: its hash must be acceptable and its issuer a policy key. Otherwise
// the check fails now, without reading anything for it.
func (v *Verifier) planGPG(rep *SubjectReport, ev *evidence) (gpgCheck, bool) {
	p := v.policy
	sig := ev.gpgPacket
	if len(p.GPGKeys) == 0 {
		rep.fail(CheckSignature, ev.path, "is an OpenPGP signature, but the policy lists no gpgKeys; add the signer's public key under gpgKeys")
		return gpgCheck{}, false
	}
	if !slices.Contains(gpgHashes, sig.Hash) {
		rep.fail(CheckSignature, ev.path, "the OpenPGP signature uses hash %s, which is not accepted (SHA-2 or SHA-3 only); sign again with \"gpg --digest-algo SHA256\"", sig.Hash)
		return gpgCheck{}, false
	}
	var keyring openpgp.EntityList
	for _, k := range p.GPGKeys {
		keyring = append(keyring, k.Entities...)
	}
	if sig.IssuerKeyId != nil && len(keyring.KeysByIdUsage(*sig.IssuerKeyId, packet.KeyFlagSign)) == 0 {
		rep.fail(CheckSignature, ev.path, "signed by OpenPGP key %s, which is not a signing key of any policy gpgKeys entry (%s)", issuerOf(sig), gpgKeyList(p))
		return gpgCheck{}, false
	}
	// Expiry is judged now; a signature made up to futureSkew ahead of
	// this clock (another machine's) is judged at its own time, since the
	// OpenPGP library counts a signature from the future as expired.
	now := v.now()
	if c := sig.CreationTime; c.After(now) && c.Sub(now) <= futureSkew {
		now = c
	}
	return gpgCheck{sig: ev.gpg, keyring: keyring, cfg: &packet.Config{Time: func() time.Time { return now }}, sharesSHA256: sharesSHA256(ev.gpg)}, true
}

// checkGPG reports the outcome of an OpenPGP signature checked during the
// read. The signature covers the subject's bytes themselves, so it is the
// digest check too.
func (v *Verifier) checkGPG(rep *SubjectReport, ev *evidence, r gpgResult, f *found) {
	if r.err != nil {
		var msg string
		switch {
		case errors.Is(r.err, pgperrors.ErrUnknownIssuer):
			msg = "signed by OpenPGP key " + issuerOf(ev.gpgPacket) + ", which is not in the policy's gpgKeys"
		case errors.Is(r.err, pgperrors.ErrKeyExpired):
			msg = "the OpenPGP key that signed it has expired; renew the key or trust a current one"
		case errors.Is(r.err, pgperrors.ErrSignatureExpired) && ev.gpgPacket.CreationTime.After(v.now()):
			msg = "the OpenPGP signature is dated " + stamp(ev.gpgPacket.CreationTime) + ", in the future; check the signer's clock"
		case errors.Is(r.err, pgperrors.ErrSignatureExpired):
			msg = "the OpenPGP signature has expired"
		case errors.Is(r.err, pgperrors.ErrKeyRevoked):
			msg = "the OpenPGP key that signed it is revoked"
		default:
			var se pgperrors.SignatureError
			if errors.As(r.err, &se) {
				msg = "the OpenPGP signature does not match the subject's content (changed file or signature): " + r.err.Error()
			} else {
				msg = "the OpenPGP signature does not verify: " + r.err.Error()
			}
		}
		rep.fail(CheckSignature, ev.path, "%s", msg)
		return
	}
	fp := strings.ToUpper(hex.EncodeToString(r.signer.PrimaryKey.Fingerprint))
	name := ""
	for _, k := range v.policy.GPGKeys {
		if slices.Contains(k.Fingerprints, fp) {
			name = k.Name
			break
		}
	}
	rep.pass(CheckSignature, ev.path, name, "OpenPGP signature of the subject's content by key %s (policy gpg key %q), made %s",
		fp, name, r.sig.CreationTime.UTC().Format("2006-01-02T15:04:05Z"))
	f.signed = true
	f.times = append(f.times, timeEvidence{bundle: ev.path, at: r.sig.CreationTime, source: "OpenPGP signature time (claimed by the signer)"})
}

func issuerOf(sig *packet.Signature) string {
	if len(sig.IssuerFingerprint) > 0 {
		return strings.ToUpper(hex.EncodeToString(sig.IssuerFingerprint))
	}
	if sig.IssuerKeyId != nil {
		return strings.ToUpper(hex.EncodeToString([]byte{
			byte(*sig.IssuerKeyId >> 56), byte(*sig.IssuerKeyId >> 48), byte(*sig.IssuerKeyId >> 40), byte(*sig.IssuerKeyId >> 32),
			byte(*sig.IssuerKeyId >> 24), byte(*sig.IssuerKeyId >> 16), byte(*sig.IssuerKeyId >> 8), byte(*sig.IssuerKeyId),
		}))
	}
	return "(unknown)"
}

func gpgKeyList(p *policy.Policy) string {
	var parts []string
	for _, k := range p.GPGKeys {
		parts = append(parts, k.Name+" "+strings.Join(k.Fingerprints, ","))
	}
	return strings.Join(parts, "; ")
}
