package signing

// The KMS providers cosign registers, registered the same way: each one's
// init adds its URI scheme to sigstore's kms registry.
import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// kmsPeer names the service behind a KMS key for errors: what it is and
// where. The providers read their addresses from the process environment
// (VAULT_ADDR for Vault); getenv is that environment.
func kmsPeer(ref KeyRef, getenv func(string) string) (peer, where string) {
	switch ref.Scheme {
	case "hashivault://":
		for _, k := range []string{"VAULT_ADDR", "BAO_ADDR"} {
			if getenv != nil && getenv(k) != "" {
				return "Vault", fmt.Sprintf("%s (%s, key %q)", getenv(k), k, ref.URI)
			}
		}
		return "Vault", fmt.Sprintf("for key %q", ref.URI)
	case "awskms://":
		return "AWS KMS", fmt.Sprintf("for key %q", ref.URI)
	case "gcpkms://":
		return "Google Cloud KMS", fmt.Sprintf("for key %q", ref.URI)
	case "azurekms://":
		return "Azure Key Vault", fmt.Sprintf("for key %q", ref.URI)
	}
	return "KMS", fmt.Sprintf("for key %q", ref.URI)
}

// loadKMS connects to the KMS key ref names. The providers' clients set no
// timeouts of their own (Vault's client none at all, and it takes no
// context): every call into them is bounded by net and ends with ctx.
func loadKMS(ctx context.Context, ref KeyRef, net timeouts.Config, getenv func(string) string) (signature.SignerVerifier, error) {
	peer, where := kmsPeer(ref, getenv)
	sv, err := timeouts.Call(ctx, net, peer, where, func(ctx context.Context) (kms.SignerVerifier, error) {
		return kms.Get(ctx, ref.URI, crypto.SHA256)
	})
	if err != nil {
		var pnf *kms.ProviderNotFoundError
		if errors.As(err, &pnf) {
			return nil, exitcode.Infraf("KMS provider for %q is not registered in this build (internal error): %v", ref.Scheme, err)
		}
		return nil, exitcode.Infra(fmt.Errorf("connecting to KMS key %q: %w; check the URI and the provider's credentials in the environment", ref.URI, err))
	}
	return &boundedKMS{sv: sv, net: net, peer: peer, where: where}, nil
}

// boundedKMS bounds each call to a KMS key by the network limits and the
// context the call carries (options.WithContext).
type boundedKMS struct {
	sv          signature.SignerVerifier
	net         timeouts.Config
	peer, where string
}

func callContext[O interface{ ApplyContext(*context.Context) }](opts []O) context.Context {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	return ctx
}

func (b *boundedKMS) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return timeouts.Call(callContext(opts), b.net, b.peer, b.where, func(context.Context) (crypto.PublicKey, error) {
		return b.sv.PublicKey(opts...)
	})
}

func (b *boundedKMS) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	return timeouts.Call(callContext(opts), b.net, b.peer, b.where, func(context.Context) ([]byte, error) {
		return b.sv.SignMessage(message, opts...)
	})
}

func (b *boundedKMS) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	_, err := timeouts.Call(callContext(opts), b.net, b.peer, b.where, func(context.Context) (struct{}, error) {
		return struct{}{}, b.sv.VerifySignature(sig, message, opts...)
	})
	return err
}
