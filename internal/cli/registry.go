package cli

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/registryref"
)

// GitHubTokenDefault is the github-token input's default in action.yml:
// Docker actions receive only what their inputs pass, never the job's
// GITHUB_TOKEN, so without it a push to ghcr.io would be anonymous.
const GitHubTokenDefault = "${{ github.token }}"

// registryInputs are the registry credential inputs, one definition for
// every stage that writes to a registry (push, and sign and attest of an
// image).
func registryInputs(c *push.Credentials) []input.Input {
	return []input.Input{
		input.String(&c.Username, input.Spec{Name: "registry-username", Env: "REGISTRY_USERNAME",
			Description: "User name for the registry, used with registry-password (otherwise github-token for ghcr.io, then the Docker config)."}),
		input.String(&c.Password, input.Spec{Name: "registry-password", Env: "REGISTRY_PASSWORD", Secret: true,
			Description: "Password or token for registry-username."}),
		input.String(&c.GitHubToken, input.Spec{Name: "github-token", Env: "GITHUB_TOKEN", Secret: true, ActionDefault: GitHubTokenDefault,
			Description: "Token for ghcr.io, used as GITHUB_ACTOR (or x-access-token) when no registry-username is set; in a workflow the job's token by default (it needs permissions: packages: write to push)."}),
	}
}

// registryKeychain is the keychain for the registry of image, from the
// credential inputs and the runtime's GITHUB_ACTOR; nil when image is empty.
func registryKeychain(rt *Runtime, c push.Credentials, image string) (authn.Keychain, error) {
	if image == "" {
		return nil, nil
	}
	ref, err := registryref.Parse(image)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"image\": %w", err))
	}
	c.GitHubActor = rt.Getenv("GITHUB_ACTOR")
	kc, err := c.KeychainFor(ref.Context().RegistryStr())
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	return kc, nil
}
