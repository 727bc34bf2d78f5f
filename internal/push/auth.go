package push

import (
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// GitHubRegistry is the registry that GITHUB_TOKEN authenticates to.
const GitHubRegistry = "ghcr.io"

// Credentials are the ways to authenticate to the registry, tried in this
// order: the username and password (for the target registry only), the
// GitHub token (for ghcr.io only), then the keychain (the Docker config:
// $DOCKER_CONFIG/config.json, ~/.docker/config.json or Podman's auth.json,
// with credential helpers). Without any, the push is anonymous.
type Credentials struct {
	Username string
	Password string
	// GitHubToken authenticates to ghcr.io as GitHubActor, or as
	// "x-access-token" when that is empty.
	GitHubToken string
	GitHubActor string
	// Keychain is the last resort; nil means authn.DefaultKeychain.
	Keychain authn.Keychain
	// KeychainName describes Keychain in errors; empty means the Docker config.
	KeychainName string
}

func (c Credentials) validate() error {
	switch {
	case c.Username != "" && c.Password == "":
		return fmt.Errorf("a registry username is set but no password; set REGISTRY_PASSWORD (input \"registry-password\") too, or unset the username")
	case c.Username == "" && c.Password != "":
		return fmt.Errorf("a registry password is set but no username; set REGISTRY_USERNAME (input \"registry-username\") too")
	}
	return nil
}

// keychain composes the sources with authn.NewMultiKeychain (the first that
// has credentials for a registry wins) and records which one answered, so
// that errors can name it without naming the secret.
func (c Credentials) keychain(registry string) (authn.Keychain, *credSource) {
	src := &credSource{}
	kc := c.Keychain
	name := c.KeychainName
	if kc == nil {
		kc, name = authn.DefaultKeychain, ""
	}
	if name == "" {
		name = "the Docker config (DOCKER_CONFIG or ~/.docker/config.json)"
	}
	var chain []authn.Keychain
	if c.Username != "" {
		chain = append(chain, &namedKeychain{src: src, name: "REGISTRY_USERNAME/REGISTRY_PASSWORD (user " + fmt.Sprintf("%q", c.Username) + ")",
			kc: staticKeychain{registry: registry, auth: &authn.Basic{Username: c.Username, Password: c.Password}}})
	}
	if c.GitHubToken != "" {
		user := c.GitHubActor
		if user == "" {
			user = "x-access-token"
		}
		chain = append(chain, &namedKeychain{src: src, name: "GITHUB_TOKEN (user " + fmt.Sprintf("%q", user) + ")",
			kc: staticKeychain{registry: GitHubRegistry, auth: &authn.Basic{Username: user, Password: c.GitHubToken}}})
	}
	chain = append(chain, &namedKeychain{src: src, name: name, kc: kc})
	return authn.NewMultiKeychain(chain...), src
}

// staticKeychain gives auth for one registry and nothing for the others.
type staticKeychain struct {
	registry string
	auth     authn.Authenticator
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() != k.registry {
		return authn.Anonymous, nil
	}
	return k.auth, nil
}

// namedKeychain records its name in src when it gives credentials.
type namedKeychain struct {
	src  *credSource
	name string
	kc   authn.Keychain
}

func (k *namedKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.kc.Resolve(r)
	if err != nil {
		return nil, &credentialsError{source: k.name, err: err}
	}
	if a != authn.Anonymous {
		k.src.set(k.name)
	}
	return a, nil
}

// credSource is the name of the credentials in use.
type credSource struct {
	mu   sync.Mutex
	name string
}

func (s *credSource) set(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.name == "" {
		s.name = name
	}
}

// anonymous reports whether no source gave credentials.
func (s *credSource) anonymous() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name == ""
}

// String names the credentials, or says there were none.
func (s *credSource) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.name == "" {
		return "no credentials (anonymous)"
	}
	return "the credentials from " + s.name
}

// credentialsError is a credential source that cannot be read.
type credentialsError struct {
	source string
	err    error
}

func (e *credentialsError) Error() string {
	return fmt.Sprintf("reading credentials from %s: %v; fix or remove that configuration", e.source, e.err)
}
func (e *credentialsError) Unwrap() error { return e.err }

// KeychainFor checks c and returns its sources as one keychain for a stage that
// reaches registry (host[:port]) without pushing through this package: the
// sign and attest stages storing an image's signatures and attestations.
// The username and password apply to registry only, the GitHub token to
// ghcr.io only, the keychain to every registry.
func (c Credentials) KeychainFor(registry string) (authn.Keychain, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	kc, _ := c.keychain(registry)
	return kc, nil
}
