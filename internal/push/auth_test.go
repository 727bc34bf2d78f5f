package push

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/registry"
)

type fixedKeychain struct {
	auth authn.Authenticator
	err  error
}

func (k fixedKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, k.err }

// TestKeychainOrder: the username and password win for the target registry,
// GITHUB_TOKEN for ghcr.io, then the Docker config; the source is recorded.
func TestKeychainOrder(t *testing.T) {
	t.Parallel()
	docker := &authn.Basic{Username: "from-docker", Password: "d"}
	tests := []struct {
		name       string
		creds      Credentials
		registry   string
		wantUser   string
		wantSource string
	}{
		{"env wins", Credentials{Username: "u", Password: "p", GitHubToken: "t"}, "ghcr.io", "u", `REGISTRY_USERNAME/REGISTRY_PASSWORD (user "u")`},
		{"github token for ghcr", Credentials{GitHubToken: "t", GitHubActor: "octocat"}, "ghcr.io", "octocat", `GITHUB_TOKEN (user "octocat")`},
		{"github token without actor", Credentials{GitHubToken: "t"}, "ghcr.io", "x-access-token", `GITHUB_TOKEN (user "x-access-token")`},
		{"github token not for others", Credentials{GitHubToken: "t"}, "registry.example.com", "from-docker", "docker test config"},
		{"docker config", Credentials{}, "registry.example.com", "from-docker", "docker test config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.creds.Keychain, tc.creds.KeychainName = fixedKeychain{auth: docker}, "docker test config"
			repo, err := name.NewRepository(tc.registry + "/o/app")
			if err != nil {
				t.Fatal(err)
			}
			// Env credentials are bound to the push target's registry.
			kc, src := tc.creds.keychain(repo.RegistryStr())
			a, err := kc.Resolve(repo)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tc.wantUser || !strings.Contains(src.String(), tc.wantSource) {
				t.Errorf("user %q from %q, want %q from %q", cfg.Username, src, tc.wantUser, tc.wantSource)
			}
		})
	}
}

func TestKeychainEnvOnlyForTarget(t *testing.T) {
	t.Parallel()
	kc, src := Credentials{Username: "u", Password: "p", Keychain: fixedKeychain{auth: authn.Anonymous}}.keychain("registry.example.com")
	other, _ := name.NewRepository("elsewhere.example.com/app")
	if a, err := kc.Resolve(other); err != nil || a != authn.Anonymous || !src.anonymous() {
		t.Errorf("credentials for another registry = %v, %v; want anonymous", a, err)
	}
}

func TestCredentialsErrors(t *testing.T) {
	t.Parallel()
	if err := (Credentials{Username: "u"}).validate(); err == nil || !strings.Contains(err.Error(), "REGISTRY_PASSWORD") {
		t.Errorf("username alone: %v", err)
	}
	if err := (Credentials{Password: "p"}).validate(); err == nil || !strings.Contains(err.Error(), "REGISTRY_USERNAME") {
		t.Errorf("password alone: %v", err)
	}
	kc, _ := Credentials{Keychain: fixedKeychain{err: errors.New("bad json")}, KeychainName: "the test config"}.keychain("r.example.com")
	repo, _ := name.NewRepository("r.example.com/app")
	_, err := kc.Resolve(repo)
	var ce *credentialsError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "reading credentials from the test config: bad json; fix or remove") {
		t.Errorf("broken keychain: %v", err)
	}
}

// TestPushWithCredentials: against a registry requiring basic
// authentication, the username and password push; a wrong password and no
// credentials fail as bad input naming where the credentials came from,
// never the password.
func TestPushWithCredentials(t *testing.T) {
	t.Parallel()
	const user, password = "alice", "correct horse battery staple"
	addr := registry.Start(t, registry.WithHtpasswd(user, password))
	dir := t.TempDir()
	writeFile(t, dir, "app", []byte("app"))
	tests := []struct {
		name  string
		creds Credentials
		want  string // "" for success
	}{
		{"right password", Credentials{Username: user, Password: password}, ""},
		{"wrong password", Credentials{Username: user, Password: "wrong password"}, `refused the credentials from REGISTRY_USERNAME/REGISTRY_PASSWORD (user "alice")`},
		{"no credentials", Credentials{}, "needs credentials and none were found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := opts(t, dir, addr+"/slipway/auth:"+strings.ReplaceAll(tc.name, " ", "-"), "app")
			tc.creds.Keychain, tc.creds.KeychainName = noDockerConfig{}, "no keychain (test)"
			o.Credentials = tc.creds
			res, err := Push(context.Background(), o)
			if tc.want == "" {
				if err != nil || res.PinnedRef == "" {
					t.Fatalf("Push() = %+v, %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitcode.Of(err) != exitcode.Usage {
				t.Fatalf("Push() error = %v (code %v), want bad input with %q", err, exitcode.Of(err), tc.want)
			}
			if strings.Contains(err.Error(), "wrong password") || strings.Contains(err.Error(), password) {
				t.Errorf("the error names the password: %v", err)
			}
		})
	}
}
