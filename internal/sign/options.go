package sign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gpgsign"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/signing"
)

// Options configures one run of the stage. Paths are relative to Dir.
type Options struct {
	// Subject is one file to sign.
	Subject string
	// Image is a registry reference of an image to sign (a digest is
	// resolved once and signed; a tag is only the way to find it).
	Image string
	// Manifest is a build manifest: every artifact it lists is signed and
	// the signatures are appended to it as signature records.
	Manifest string
	// Bundle is where Subject's bundle goes; default "<subject>.sigstore.json".
	Bundle string

	// Key is a cosign key file or a KMS URI; Password decrypts a key file.
	Key      string
	Password string
	// Keyless signs with a Fulcio certificate for the job's OIDC identity.
	Keyless bool
	// IDToken is an OIDC token to use instead of asking GitHub Actions.
	IDToken string
	// Audience is the audience requested from GitHub ("sigstore").
	Audience string
	// FulcioURL, RekorURL and TSAURL locate the Sigstore services; TLog
	// false skips Rekor (air-gapped sites).
	FulcioURL string
	RekorURL  string
	TSAURL    string
	TLog      bool

	// GPGKey is an armored OpenPGP secret key; GPGPassphrase unlocks it.
	GPGKey        string
	GPGPassphrase string

	// Dir is the workspace.
	Dir string
	// Getenv reads the environment (the GitHub Actions token variables).
	Getenv func(string) string
	// HTTP is the client for Sigstore services and GitHub's token endpoint.
	HTTP *http.Client
	// Keychain authenticates to registries; nil is authn.DefaultKeychain.
	Keychain authn.Keychain
	Log      *slog.Logger
	Now      func() time.Time
}

func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Audience == "" {
		o.Audience = oidc.SigstoreAudience
	}
}

// validate checks the combination of inputs before anything is read.
func (o *Options) validate() error {
	targets := 0
	for _, s := range []string{o.Subject, o.Image, o.Manifest} {
		if s != "" {
			targets++
		}
	}
	switch {
	case targets == 0:
		return exitcode.BadInputf("nothing to sign: set subject (a file), image (a registry reference) or manifest (a build manifest)")
	case targets > 1:
		return exitcode.BadInputf("set only one of subject, image and manifest; run the step once per target")
	case o.Key != "" && o.Keyless:
		return exitcode.BadInputf("both key and keyless are set; use a key (key: cosign.key or a KMS URI) or keyless: true, not both")
	case o.Key == "" && !o.Keyless && o.GPGKey == "":
		return exitcode.BadInputf("no signing key: set key (a cosign key file or KMS URI), keyless: true, or the GPG_PRIVATE_KEY secret")
	case o.Image != "" && o.Key == "" && !o.Keyless:
		return exitcode.BadInputf("images are signed with Sigstore only: set key or keyless: true (a GPG key cannot sign an image)")
	case o.Bundle != "" && o.Subject == "":
		return exitcode.BadInputf("bundle names the output for subject only; with a manifest each bundle is written next to its artifact as <file>.sigstore.json")
	case o.Keyless && o.FulcioURL == "":
		return exitcode.BadInputf("keyless signing needs fulcio-url (%q for the public instance)", signing.PublicFulcioURL)
	case o.TLog && o.RekorURL == "" && (o.Key != "" || o.Keyless):
		return exitcode.BadInputf("tlog is true but rekor-url is empty; set rekor-url or tlog: false")
	}
	if o.Password != "" && o.Key == "" {
		o.Log.Warn("COSIGN_PASSWORD is set but no key is: it is not used")
	}
	return nil
}

// abs resolves a workspace-relative path.
func (o *Options) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(o.Dir, p)
}

// rel returns p relative to the workspace with slashes, for records.
func (o *Options) rel(p string) string {
	if r, err := filepath.Rel(o.Dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// pendingSigner is a Sigstore signer being loaded in the background: a
// cosign key's scrypt decryption, a KMS round trip or a keyless
// certificate takes as long as hashing hundreds of megabytes, so it runs
// while the artifact is read.
type pendingSigner struct {
	done chan struct{}
	sg   *signing.Signer
	err  error
}

// wait returns the loaded signer, nil when the run signs with GPG only.
func (p *pendingSigner) wait() (*signing.Signer, error) {
	if p == nil {
		return nil, nil
	}
	<-p.done
	return p.sg, p.err
}

// startSigstore starts loading the Sigstore signer (nil without key or
// keyless); a failure cancels ctx with the error as its cause, so that a
// read in progress stops at once.
func (o *Options) startSigstore(ctx context.Context, cancel context.CancelCauseFunc) *pendingSigner {
	if o.Key == "" && !o.Keyless {
		return nil
	}
	so := signing.Options{
		Key:       o.Key,
		Password:  []byte(o.Password),
		FulcioURL: o.FulcioURL,
		TSAURL:    o.TSAURL,
		HTTP:      o.HTTP,
		Log:       o.Log,
		Now:       o.Now,
	}
	if o.Key != "" && !strings.Contains(o.Key, "://") {
		so.Key = o.abs(o.Key)
	}
	if o.TLog {
		so.RekorURL = o.RekorURL
	}
	if o.Keyless {
		so.IDToken = o.tokenSource()
	}
	p := &pendingSigner{done: make(chan struct{})}
	go func() {
		sg, err := signing.New(ctx, so)
		if err == nil {
			err = sg.Prepare(ctx)
		}
		p.sg, p.err = sg, err
		close(p.done)
		if err != nil {
			cancel(err)
		}
	}()
	return p
}

// gpgSigner loads the GPG key (nil without one).
func (o *Options) gpgSigner() (*gpgsign.Signer, error) {
	if o.GPGKey == "" {
		return nil, nil
	}
	gs, err := gpgsign.Load([]byte(o.GPGKey), []byte(o.GPGPassphrase), o.Now)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("secret GPG_PRIVATE_KEY: %w", err))
	}
	return gs, nil
}

// tokenSource gives the explicit token when one is set, else asks the
// GitHub Actions runtime for a fresh one each time.
func (o *Options) tokenSource() signing.TokenSource {
	if o.IDToken != "" {
		tok := o.IDToken
		return func(context.Context) (string, error) { return tok, nil }
	}
	gh := oidc.GitHub{Getenv: o.Getenv, HTTP: o.HTTP}
	return func(ctx context.Context) (string, error) {
		tok, err := gh.Token(ctx, o.Audience)
		if errors.Is(err, oidc.ErrNoPermission) {
			return "", exitcode.BadInput(fmt.Errorf("keyless signing: %w", err))
		}
		if err != nil {
			return "", exitcode.Infra(fmt.Errorf("keyless signing: %w", err))
		}
		return tok, nil
	}
}
