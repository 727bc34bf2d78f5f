package cli

import (
	"context"
	"fmt"

	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/sbom"
	"github.com/slipway/actions/internal/scan"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testresult"
)

// checker is a stage that can check its inputs, and what they need from
// the machine and the environment, without doing any of its work: the
// pipeline checks every stage it will run before the first one starts.
type checker interface {
	Check(ctx context.Context, rt *Runtime) error
}

// Check checks the format and SOURCE_DATE_EPOCH.
func (c *sbomCommand) Check(_ context.Context, rt *Runtime) error {
	if _, err := sbom.ParseFormat(c.format); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"format\": %w", err))
	}
	_, err := sourceDateEpoch(rt)
	return err
}

// Check checks the inputs and that the keys are there (not decrypted).
func (c *signCommand) Check(_ context.Context, rt *Runtime) error {
	o := c.o
	o.Dir, o.Getenv, o.Log, o.Now = rt.Dir, rt.Getenv, rt.Log, rt.Now
	return sign.Check(o)
}

// Check checks the inputs, that the key is there (not decrypted) and, for
// provenance, that the builder can be identified: a self-hosted runner
// without builder-id fails here.
func (c *attestCommand) Check(ctx context.Context, rt *Runtime) error {
	o, err := c.options()
	if err != nil {
		return err
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	env := signingEnv(rt)
	if err := c.sigstore.Check(env); err != nil {
		return err
	}
	if o.Kind == attest.KindProvenance {
		_, err = c.builder(ctx, rt, c.sigstore.Tokens(env))
	}
	return err
}

// Check reads and compiles the trust policy (or the signer inputs).
func (c *verifyCommand) Check(_ context.Context, rt *Runtime) error {
	_, err := c.trust.load(rt)
	return err
}

// Check checks the reference.
func (c *pushCommand) Check(context.Context, *Runtime) error {
	if _, err := registryref.ParseTag(c.ref); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"ref\": %w", err))
	}
	return nil
}

// Check checks the result format and that a signing key is there (not
// decrypted): the pipeline with a test command and no key fails before the
// build.
func (c *testCommand) Check(_ context.Context, rt *Runtime) error {
	if _, err := testresult.ParseFormat(c.form); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"format\": %w", err))
	}
	if !c.sigstore.Enabled() {
		return exitcode.BadInputf("no signing key: set key (a cosign key file or KMS URI), the %s secret (cosign-key) or keyless: true", signing.KeyEnv)
	}
	return c.sigstore.Check(signingEnv(rt))
}

// Check checks db-max-age, that a signing key is there (not decrypted) and
// that the database opens: present, its checksum matching import.json, v6
// and young enough. A stale mirror fails the pipeline before the build.
func (c *scanCommand) Check(_ context.Context, rt *Runtime) error {
	maxAge, err := policy.ParseAge(c.dbMaxAge)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"db-max-age\": %w", err))
	}
	if err := checkSigstoreKey(c.sigstore); err != nil {
		return err
	}
	if err := c.sigstore.Check(signingEnv(rt)); err != nil {
		return err
	}
	db, err := scan.OpenDB(scan.DBOptions{Path: rt.path(c.db), MaxAge: maxAge, Now: rt.Now})
	if err != nil {
		return err
	}
	return db.Close()
}
