package cli

import (
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/signing"
)

// signerInputs are the Sigstore key and service inputs, one definition for
// every stage that signs with Sigstore (sign and attest).
func signerInputs(c *signing.Config) []input.Input {
	return []input.Input{
		input.String(&c.Key, input.Spec{Name: "key",
			Description: "A cosign private key file (cosign.key), a KMS URI (awskms://, azurekms://, gcpkms://, hashivault://) or env://NAME, an environment variable holding the key's content. Each signature is recorded in the public Rekor log (rekor-url) unless tlog is false."}),
		input.String(&c.KeyPEM, input.Spec{Name: "cosign-key", Secret: true, Env: signing.KeyEnv,
			Description: "The content of an encrypted cosign private key (cosign.key), instead of key: it is never written to disk. Each signature is recorded in the public Rekor log (rekor-url) unless tlog is false."}),
		input.String(&c.Password, input.Spec{Name: "cosign-password", Secret: true, Env: "COSIGN_PASSWORD",
			Description: "The password of the cosign key file."}),
		input.Bool(&c.Keyless, input.Spec{Name: "keyless", Default: "false",
			Description: "Sign keyless: the job's GitHub OIDC token (needs permissions: id-token: write) gets a short-lived Fulcio certificate."}),
		input.String(&c.IDToken, input.Spec{Name: "identity-token", Secret: true, Env: "SIGSTORE_ID_TOKEN",
			Description: "An OIDC token for keyless signing, instead of asking the GitHub Actions runtime for one."}),
		input.String(&c.Audience, input.Spec{Name: "oidc-audience", Default: oidc.SigstoreAudience,
			Description: "The audience of the OIDC token requested from GitHub for Fulcio."}),
		input.String(&c.FulcioURL, input.Spec{Name: "fulcio-url", Default: signing.PublicFulcioURL,
			Description: "The Fulcio instance that issues keyless certificates (a private Sigstore's URL for air-gapped sites)."}),
		input.String(&c.RekorURL, input.Spec{Name: "rekor-url", Default: signing.PublicRekorURL,
			Description: "The Rekor transparency log that records each signature."}),
		input.Bool(&c.TLog, input.Spec{Name: "tlog", Default: "true",
			Description: "Record each signature in the Rekor transparency log (rekor-url, the public one by default), with a key too: the entry publishes the signed digest, the signature and the public key or certificate. false keeps them out of any log (a private key's releases, air-gapped sites)."}),
		input.String(&c.TSAURL, input.Spec{Name: "tsa-url",
			Description: "An RFC 3161 timestamp authority's full URL (e.g. https://tsa.example/api/v1/timestamp); empty for no signed timestamp."}),
	}
}

// checkSigstoreKey refuses a stage that must sign with Sigstore (attest,
// scan) and was given no key, KMS key or keyless, or an invalid mix.
func checkSigstoreKey(c signing.Config) error {
	if !c.Enabled() {
		return exitcode.BadInputf("no signing key: set key (a cosign key file or KMS URI), the %s secret (cosign-key) or keyless: true", signing.KeyEnv)
	}
	return c.Validate()
}

// signingEnv is what building a signer needs from the runtime.
func signingEnv(rt *Runtime) signing.Env {
	return signing.Env{Dir: rt.Dir, Getenv: rt.Getenv, HTTP: rt.HTTP, Net: rt.Net, Log: rt.Log, Now: rt.Now}
}

// maskKeyEnv masks the key that key: env://NAME names: a secret that came
// through no secret input, masked here as the inputs' are.
func maskKeyEnv(rt *Runtime, c signing.Config) {
	if name, ok := strings.CutPrefix(c.Key, signing.EnvScheme); ok {
		if v := rt.Getenv(name); v != "" {
			rt.Report.Mask(v)
		}
	}
}
