package sign

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gpgsign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/timeouts"
	"github.com/slipway/actions/internal/workspace"
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

	// Sigstore is the key (or keyless) and the Sigstore services; the
	// sign and attest stages share it.
	Sigstore signing.Config

	// GPGKey is an armored OpenPGP secret key; GPGPassphrase unlocks it.
	GPGKey        string
	GPGPassphrase string

	// Dir is the workspace.
	Dir string
	// Getenv reads the environment (the GitHub Actions token variables).
	Getenv func(string) string
	// HTTP is the client for Sigstore services and GitHub's token endpoint.
	HTTP *http.Client
	// Registry carries registry requests (signing an image); nil is
	// Net.Transport("registry").
	Registry http.RoundTripper
	// Net bounds the waits on the network; zero fields are the defaults.
	Net timeouts.Config
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
	}
	if err := o.Sigstore.Validate(); err != nil {
		return err
	}
	switch {
	case !o.Sigstore.Enabled() && o.GPGKey == "":
		return exitcode.BadInputf("no signing key: set key (a cosign key file or KMS URI), the %s secret (cosign-key), keyless: true, or the GPG_PRIVATE_KEY secret", signing.KeyEnv)
	case o.Image != "" && !o.Sigstore.Enabled():
		return exitcode.BadInputf("images are signed with Sigstore only: set key, the %s secret (cosign-key) or keyless: true (a GPG key cannot sign an image)", signing.KeyEnv)
	case o.Bundle != "" && o.Subject == "":
		return exitcode.BadInputf("bundle names the output for subject only; with a manifest each bundle is written next to its artifact as <file>.sigstore.json")
	}
	if o.Sigstore.Password != "" && !o.Sigstore.HasKey() {
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

// inside checks that p (absolute, or relative to the workspace) leads
// inside the workspace through every symbolic link, and returns where it
// leads: every file signed or written is there.
func (o *Options) inside(p string) (string, error) {
	r, err := workspace.Resolve(o.Dir, p)
	if err != nil {
		return "", exitcode.WithFile(exitcode.BadInput(err), p)
	}
	return r, nil
}

// rel returns p relative to the workspace with slashes, for records.
func (o *Options) rel(p string) string {
	if r, err := filepath.Rel(o.Dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// startSigstore starts loading the Sigstore signer in the background (nil
// without key or keyless), while the artifact is read; a failure cancels
// ctx with the error as its cause, so that a read in progress stops at once.
func (o *Options) startSigstore(ctx context.Context, cancel context.CancelCauseFunc) *signing.Pending {
	if !o.Sigstore.Enabled() {
		return nil
	}
	env := signing.Env{Dir: o.Dir, Getenv: o.Getenv, HTTP: o.HTTP, Net: o.Net, Log: o.Log, Now: o.Now}
	return signing.Start(ctx, o.Sigstore.Options(env, nil), cancel)
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

// Check checks the options as Run does before it reads anything and,
// without signing, decrypting a cosign key or reaching any service, that
// the keys they name are there: the Sigstore key or keyless token source
// (signing.Config.Check), and the GPG key, which it opens with its
// passphrase. A pipeline calls it before its first stage runs.
func Check(opts Options) error {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return err
	}
	if _, err := opts.gpgSigner(); err != nil {
		return err
	}
	return opts.Sigstore.Check(signing.Env{Dir: opts.Dir, Getenv: opts.Getenv})
}
