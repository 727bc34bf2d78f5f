package cli

import (
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/policy"
)

// trustInputs are the ways to say whom to trust, shared by verify and pull:
// a policy file, or cosign's verify flags as a shorthand for a policy of
// the signers they name (policy.FromSigner).
type trustInputs struct {
	policy string
	signer policy.Signer
}

// policyDescription is the policy input's description.
const policyDescription = "The trust policy file (apiVersion slipway.dev/v1, kind TrustPolicy; see docs/policy.md)."

func (t *trustInputs) inputs() []input.Input {
	return []input.Input{
		input.String(&t.policy, input.Spec{Name: "policy", Description: policyDescription}),
		input.String(&t.signer.Key, input.Spec{Name: policy.FlagKey,
			Description: "Instead of a policy: a PEM public key (cosign.pub) that must have signed, as cosign verify-blob --key (a one-signer policy; see docs/policy.md)."}),
		input.String(&t.signer.GPGKey, input.Spec{Name: policy.FlagGPGKey,
			Description: "Instead of a policy: an armored OpenPGP public key file (gpg --armor --export) that must have signed."}),
		input.String(&t.signer.Identity, input.Spec{Name: policy.FlagIdentity,
			Description: "Instead of a policy: the keyless signer's certificate subject (e.g. https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1), with certificate-oidc-issuer and trusted-root."}),
		input.String(&t.signer.IdentityRegExp, input.Spec{Name: policy.FlagIdentityRegExp,
			Description: "Instead of certificate-identity: a regular expression (RE2) the whole certificate subject must match."}),
		input.String(&t.signer.Issuer, input.Spec{Name: policy.FlagIssuer,
			Description: "The keyless signer's OIDC issuer (e.g. https://token.actions.githubusercontent.com)."}),
		input.String(&t.signer.IssuerRegExp, input.Spec{Name: policy.FlagIssuerRegExp,
			Description: "Instead of certificate-oidc-issuer: a regular expression (RE2) the whole issuer must match."}),
		input.String(&t.signer.TrustedRoot, input.Spec{Name: policy.FlagTrustedRoot,
			Description: "With key or certificate-identity: a Sigstore trusted_root.json (Fulcio CA, Rekor and timestamp keys); the transparency log entry is required, as cosign requires it."}),
		input.Bool(&t.signer.IgnoreTlog, input.Spec{Name: policy.FlagIgnoreTlog, Default: "false",
			Description: "With key or certificate-identity: accept Sigstore bundles without checking a transparency log entry (as cosign --insecure-ignore-tlog; tlog: off)."}),
	}
}

// signerInputNames are the inputs that describe a signer instead of a
// policy file.
var signerInputNames = []string{policy.FlagKey, policy.FlagGPGKey, policy.FlagIdentity, policy.FlagIdentityRegExp,
	policy.FlagIssuer, policy.FlagIssuerRegExp, policy.FlagTrustedRoot, policy.FlagIgnoreTlog}

// given reports whether a policy or a signer was given.
func (t *trustInputs) given() bool { return t.policy != "" || !t.signer.IsZero() }

// load returns the policy: the file, or the one the signer inputs describe.
// Both at once is bad input.
func (t *trustInputs) load(rt *Runtime) (*policy.Policy, error) {
	switch {
	case t.policy != "" && !t.signer.IsZero():
		return nil, exitcode.BadInputf("policy %q is given with signer inputs (key, gpg-key, certificate-identity…, trusted-root, insecure-ignore-tlog); give one: the policy file, or the signer", t.policy)
	case t.policy != "":
		p, err := policy.Load(rt.path(t.policy))
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(err), t.policy)
		}
		return p, nil
	case t.signer.IsZero():
		return nil, exitcode.BadInputf("no trust policy: give policy (a TrustPolicy file, see docs/policy.md), or the signer to trust as cosign's flags name it: key (cosign.pub), gpg-key, or certificate-identity with certificate-oidc-issuer")
	}
	p, err := policy.FromSigner(t.signer, rt.Dir)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	return p, nil
}
