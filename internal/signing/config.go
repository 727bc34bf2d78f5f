package signing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/timeouts"
)

// KeyEnv is the environment variable (and secret) holding an encrypted
// cosign private key's PEM, as cosign's --key env://COSIGN_KEY reads it.
const KeyEnv = "COSIGN_KEY"

// Config is the choice of Sigstore key and services that a stage's inputs
// make (key, cosign-key, cosign-password, keyless, identity-token,
// oidc-audience, fulcio-url, rekor-url, tlog, tsa-url): the sign and attest
// stages share it.
type Config struct {
	// Key is a cosign key file (relative to the workspace), a KMS URI or
	// env://NAME, an environment variable holding the key's PEM.
	Key string
	// KeyPEM is an encrypted cosign private key's PEM itself (the
	// COSIGN_KEY secret): it is never written to disk.
	KeyPEM string
	// Password decrypts a cosign key (the COSIGN_PASSWORD secret).
	Password string
	// Keyless signs with a Fulcio certificate for the job's OIDC identity.
	Keyless bool
	// IDToken is an OIDC token to use instead of asking GitHub Actions.
	IDToken string
	// Audience is the audience requested from GitHub; empty is "sigstore".
	Audience string
	// FulcioURL, RekorURL and TSAURL locate the Sigstore services; TLog
	// false skips Rekor (air-gapped sites).
	FulcioURL string
	RekorURL  string
	TSAURL    string
	TLog      bool
}

// HasKey reports whether c names a key: a file, a KMS key, an environment
// variable or the key's PEM.
func (c Config) HasKey() bool { return c.Key != "" || c.KeyPEM != "" }

// Enabled reports whether c signs with Sigstore at all: a key or keyless.
func (c Config) Enabled() bool { return c.HasKey() || c.Keyless }

// Validate checks the combination of settings, before anything is read.
// A Config that is not Enabled is valid: whether a stage needs a key is
// the stage's decision.
func (c Config) Validate() error {
	switch {
	case c.Key != "" && c.KeyPEM != "" && c.Key != EnvScheme+KeyEnv:
		return exitcode.BadInputf("both key (%q) and the %s secret (cosign-key) are set; use one of them", c.Key, KeyEnv)
	case c.HasKey() && c.Keyless:
		return exitcode.BadInputf("both key and keyless are set; use a key (key: cosign.key or a KMS URI, or the %s secret) or keyless: true, not both", KeyEnv)
	case c.Keyless && c.FulcioURL == "":
		return exitcode.BadInputf("keyless signing needs fulcio-url (%q for the public instance)", PublicFulcioURL)
	case c.TLog && c.RekorURL == "" && c.Enabled():
		return exitcode.BadInputf("tlog is true but rekor-url is empty; set rekor-url or tlog: false")
	}
	return nil
}

// Env is what turning a Config into a signer needs from the running stage.
type Env struct {
	// Dir is the workspace: a relative key file is resolved against it.
	Dir string
	// Getenv reads the variable of an env://NAME key and the GitHub
	// Actions token variables; nil is "no variables".
	Getenv func(string) string
	// HTTP is the client for the Sigstore services and GitHub's token
	// endpoint; nil is the default.
	HTTP *http.Client
	// Net bounds the waits on the network: a KMS call, each Sigstore
	// request; zero fields are the defaults.
	Net timeouts.Config
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Options returns the signer options for c: a relative key file resolved
// against env.Dir, the key's PEM from KeyPEM (for key env://COSIGN_KEY
// too, which names the same secret), the Rekor URL only when TLog
// is set, and tokens (nil: c.Tokens(env)) for keyless signing.
func (c Config) Options(env Env, tokens *Tokens) Options {
	o := Options{Key: c.Key, Password: []byte(c.Password), FulcioURL: c.FulcioURL, TSAURL: c.TSAURL,
		Getenv: env.Getenv, HTTP: env.HTTP, Net: env.Net, Log: env.Log, Now: env.Now}
	if c.KeyPEM != "" {
		o.Key, o.KeyPEM = "", []byte(c.KeyPEM)
	}
	if o.Key != "" && !strings.Contains(o.Key, "://") && !filepath.IsAbs(o.Key) {
		o.Key = filepath.Join(env.Dir, o.Key)
	}
	if c.TLog {
		o.RekorURL = c.RekorURL
	}
	if c.Keyless {
		if tokens == nil {
			tokens = c.Tokens(env)
		}
		o.IDToken = tokens.Get
	}
	return o
}

// Tokens returns the source of OIDC tokens for keyless signing: the
// IDToken when set, else fresh tokens from the GitHub Actions runtime.
func (c Config) Tokens(env Env) *Tokens {
	if c.IDToken != "" {
		tok := c.IDToken
		return &Tokens{fetch: func(context.Context) (string, error) { return tok, nil }}
	}
	audience := c.Audience
	if audience == "" {
		audience = oidc.SigstoreAudience
	}
	gh := oidc.GitHub{Getenv: env.Getenv, HTTP: env.HTTP}
	return &Tokens{fetch: func(ctx context.Context) (string, error) {
		tok, err := gh.Token(ctx, audience)
		if errors.Is(err, oidc.ErrNoPermission) {
			return "", exitcode.BadInput(fmt.Errorf("keyless signing: %w", err))
		}
		if err != nil {
			return "", exitcode.Infra(fmt.Errorf("keyless signing: %w", err))
		}
		return tok, nil
	}}
}

// Tokens hands out OIDC tokens: a fresh one on each Get (a keyless
// certificate renewal needs a new token), except that a token fetched by
// Peek (to read its claims) is the one the next Get returns.
type Tokens struct {
	fetch func(context.Context) (string, error)
	mu    sync.Mutex
	first string
}

// Get returns the token kept by Peek, else a fresh one. It is a TokenSource.
func (t *Tokens) Get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first != "" {
		tok := t.first
		t.first = ""
		return tok, nil
	}
	return t.fetch(ctx)
}

// Peek fetches a token and keeps it for the next Get.
func (t *Tokens) Peek(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first == "" {
		tok, err := t.fetch(ctx)
		if err != nil {
			return "", err
		}
		t.first = tok
	}
	return t.first, nil
}

// Check checks c as Validate does and, without decrypting a key or
// reaching any service, that what it names is there: the key (CheckKey),
// or for keyless signing a way to get a token (identity-token, or the
// token request variables of a GitHub Actions job with id-token: write).
// A pipeline checks its inputs with it before its first stage runs.
func (c Config) Check(env Env) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Keyless && c.IDToken == "" && !(oidc.GitHub{Getenv: env.Getenv}).Available() {
		return exitcode.BadInput(fmt.Errorf("keyless signing: %w", oidc.ErrNoPermission))
	}
	if c.HasKey() {
		return CheckKey(c.Options(env, nil))
	}
	return nil
}
