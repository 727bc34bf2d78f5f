package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/sbom"
	"github.com/slipway/actions/internal/signing"
)

// pipelineCommand runs the stages in order on one workspace: build, then
// the tests when a test command or results are given, then an SBOM per
// artifact, then a vulnerability scan of those SBOMs when a database is
// given, then signatures and provenance when a key is given, then a push
// when a ref is given. Each stage runs exactly as its own
// command would, fed by the pipeline's inputs and the build's manifest; the
// stages hand each other nothing but that manifest.
type pipelineCommand struct {
	values map[string]*string
	// stages is set by tests; nil means newPipelineStages().
	stages func() pipelineStages
}

// pipelineStages are fresh stage commands for one pipeline run.
type pipelineStages struct {
	build, test, sbom, scan, sign, attest, verify, push, upload Command
}

func newPipelineStages() pipelineStages {
	return pipelineStages{build: &buildCommand{}, test: &testCommand{}, sbom: &sbomCommand{}, scan: &scanCommand{}, sign: &signCommand{}, attest: &attestCommand{},
		verify: &verifyCommand{}, push: &pushCommand{}, upload: &uploadCommand{}}
}

func (s pipelineStages) all() []Command {
	stages := []Command{s.build}
	for _, optional := range []Command{s.test, s.sbom, s.scan, s.sign, s.attest, s.verify, s.push, s.upload} {
		if optional != nil {
			stages = append(stages, optional)
		}
	}
	return stages
}

// prefixed returns the inputs of a stage the pipeline offers under the
// stage's name ("test-command"): inputs whose name another stage uses for
// something else (build's command, sbom's format, build's pass-env).
func prefixed(cmd Command) []string {
	if p, ok := cmd.(interface{ pipelinePrefixed() []string }); ok {
		return p.pipelinePrefixed()
	}
	return nil
}

// pipelineName is the pipeline's input for stage cmd's input name.
func pipelineName(cmd Command, name string) string {
	if slices.Contains(prefixed(cmd), name) {
		return cmd.Name() + "-" + name
	}
	return name
}

// pipelinePrefixed: the test stage's own inputs, as test-command,
// test-results, test-format, test-pass-env and test-allow-failure.
func (c *testCommand) pipelinePrefixed() []string {
	return []string{"command", "results", "format", "pass-env", "allow-failure"}
}

// pipelinePrefixed: the scan stage's own inputs, as scan-db, scan-db-max-age
// and scan-sarif; scan-db enables the stage, so it has no environment
// fallback (GRYPE_DB_CACHE_DIR alone never adds a stage).
func (c *scanCommand) pipelinePrefixed() []string {
	return []string{"db", "db-max-age", "sarif"}
}

// pipelineOwned are stage inputs the pipeline sets itself, from the build's
// manifest, instead of taking them from the user.
var pipelineOwned = []string{"subject", "manifest", "image", "bundle", "bundles", "output", "sbom", "predicate-type", "json"}

func (c *pipelineCommand) Name() string   { return "pipeline" }
func (c *pipelineCommand) RootOnly() bool { return true }
func (c *pipelineCommand) Short() string {
	return "Run the whole pipeline: build, the tests (attested) when a test command or results are given, an SBOM for every artifact, a vulnerability scan of the SBOMs (attested, with SARIF) when a scan database is given, signatures, SLSA provenance and SBOM attestations when a key is given, verification when a policy is given, a push when a ref is given, and an upload to the control plane when a server is given."
}

// Inputs are the inputs of every stage, once each, except those the
// pipeline derives from the build's manifest. A stage-required input stays
// required only for build; ref is optional (no ref, no push).
func (c *pipelineCommand) Inputs() []input.Input {
	c.values = map[string]*string{}
	var out []input.Input
	for i, stage := range c.newStages().all() {
		for _, in := range stage.Inputs() {
			name := pipelineName(stage, in.Name)
			if _, dup := c.values[name]; dup || slices.Contains(pipelineOwned, in.Name) || slices.Contains(standalone(stage), in.Name) {
				continue
			}
			if i > 0 {
				in.Required = false
			}
			if name != in.Name {
				// Given only to enable the stage: no environment fallback.
				in.Description = "slipway " + stage.Name() + "'s " + in.Name + ": " + in.Description
				in.Name, in.Env = name, ""
			}
			v := new(string)
			c.values[name] = v
			out = append(out, input.Raw(v, in.Spec))
		}
	}
	return out
}

func (c *pipelineCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "manifest", Description: "Path of the artifact manifest, holding every artifact, SBOM, signature and provenance record of the run."},
		{Name: "subjects-file", Description: "Path of the sha256sum-format subjects file."},
		{Name: "base64-subjects", Description: "The subjects file, base64-encoded (slsa-github-generator's base64-subjects)."},
		{Name: "test-result", Description: "The tests' result, PASSED, WARNED or FAILED, when a test command or test results were given."},
		{Name: "test-attestation", Description: "Path of the signed test-result bundle, when a test command or test results were given."},
		{Name: "sboms", Description: "Paths of the SBOMs, one per line."},
		{Name: "scan-findings", Description: "The number of vulnerability findings, when a scan database was given."},
		{Name: "scan-max-severity", Description: "The highest severity found (none, negligible, low, medium, high or critical), when a scan database was given."},
		{Name: "scan-attestation", Description: "Path of the signed vulns bundle, when a scan database was given."},
		{Name: "scan-sarif", Description: "Path of the scan's SARIF log (for github/codeql-action/upload-sarif), when a scan database was given."},
		{Name: "signatures", Description: "Paths of the signature files, one per line, when a key was given."},
		{Name: "provenance", Description: "Path of the SLSA provenance bundle, when a key was given."},
		{Name: "verified", Description: "true when every artifact passed the trust policy, when a policy was given."},
		{Name: "pinned-ref", Description: "The pushed artifacts by digest, registry/repository@sha256:HEX, when a ref was given."},
		{Name: "release-id", Description: "The release's ID on the control plane, when a server was given."},
		{Name: "log-index", Description: "The index of the log entry that admitted the release, when a server was given."},
		{Name: "receipt", Description: "Path of the release's receipt, when a server was given."},
	}
}

func (c *pipelineCommand) newStages() pipelineStages {
	if c.stages != nil {
		return c.stages()
	}
	return newPipelineStages()
}

func (c *pipelineCommand) value(name string) string {
	if v, ok := c.values[name]; ok {
		return *v
	}
	return ""
}

func (c *pipelineCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := c.check(ctx, rt); err != nil {
		return err
	}
	st := c.newStages()
	var skipped []string

	// A cosign key that does not decrypt stops the build at once.
	buildCtx, stopBuild := context.WithCancelCause(ctx)
	defer stopBuild(nil)
	c.warmKey(buildCtx, rt, stopBuild)
	go sbom.WarmUp() // syft's license scanner, on another core while the build hashes
	built, err := c.stage(buildCtx, rt, st.build, nil)
	if cause := context.Cause(buildCtx); err != nil && ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return fmt.Errorf("the build was stopped: %w", cause)
	}
	if err != nil {
		return err
	}
	manifestPath := built["manifest"]
	outs := map[string]string{
		"manifest": manifestPath, "subjects-file": built["subjects-file"], "base64-subjects": built["base64-subjects"],
	}
	if c.tests() {
		// Right after the build, on what it built: a failed run stops the
		// pipeline (unless test-allow-failure) before anything is signed.
		tested, err := c.stage(ctx, rt, st.test, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		outs["test-result"], outs["test-attestation"] = tested["result"], tested["attestation"]
	} else {
		skipped = append(skipped, "test: no test-command or test-results given")
	}
	// One sbom stage for every artifact the manifest lists (files by path,
	// OCI layouts by name): the stage reads the names from the manifest, so a
	// path holding a comma or a glob character is never re-parsed as a list.
	described, err := c.stage(ctx, rt, st.sbom, map[string]string{"manifest": manifestPath})
	if err != nil {
		return err
	}
	outs["sboms"] = described["sboms"]
	if c.scans() {
		// After the SBOMs, before anything is signed: the findings are
		// attested with the same key, and the policy judges them at verify.
		scanned, err := c.stage(ctx, rt, st.scan, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		for _, o := range []string{"findings", "max-severity", "attestation", "sarif"} {
			outs["scan-"+o] = scanned[o]
		}
	} else {
		skipped = append(skipped, "scan: no scan-db given")
	}
	if c.signs() {
		signed, err := c.stage(ctx, rt, st.sign, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		outs["signatures"] = signed["signatures"]
	} else {
		skipped = append(skipped, "sign: no key, keyless or gpg-key given")
	}
	if c.sigstore() {
		attested, err := c.stage(ctx, rt, st.attest, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		outs["provenance"] = attested["bundle-path"]
		if _, err := c.stage(ctx, rt, st.attest, map[string]string{"manifest": manifestPath, "predicate-type": sbomPredicate(c.value("format"))}); err != nil {
			return err
		}
	} else {
		skipped = append(skipped, "attest: no key or keyless given (a GPG key alone signs but does not attest)")
	}
	if c.value("policy") != "" {
		verified, err := c.stage(ctx, rt, st.verify, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		outs["verified"] = verified["verified"]
	} else {
		skipped = append(skipped, "verify: no policy given")
	}
	if c.value("ref") != "" {
		pushed, err := c.stage(ctx, rt, st.push, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		outs["pinned-ref"] = pushed["pinned-ref"]
	} else {
		skipped = append(skipped, "push: no ref given")
	}
	if c.value("server") != "" && st.upload != nil {
		uploaded, err := c.stage(ctx, rt, st.upload, map[string]string{"manifest": manifestPath})
		if err != nil {
			return err
		}
		for _, o := range []string{"release-id", "log-index", "receipt"} {
			outs[o] = uploaded[o]
		}
	} else {
		skipped = append(skipped, "upload: no server given")
	}

	for _, o := range c.Outputs() {
		if v := outs[o.Name]; v != "" {
			if err := rt.Output(o.Name, v); err != nil {
				return err
			}
		}
	}
	if len(skipped) == 0 {
		return nil
	}
	s := action.Summary{Title: "Pipeline"}
	for _, why := range skipped {
		s.Notes = append(s.Notes, "Skipped "+why+".")
	}
	return rt.Report.Summary(s)
}

// sbomPredicate is the attest stage's predicate-type for an SBOM format.
func sbomPredicate(format string) string {
	if strings.HasPrefix(format, "spdx") {
		return "spdx"
	}
	return "cyclonedx"
}

// tests reports whether the test stage runs: a test command or result
// files were given.
func (c *pipelineCommand) tests() bool {
	return c.value("test-command") != "" || c.value("test-results") != ""
}

// scans reports whether the scan stage runs: a vulnerability database was
// given.
func (c *pipelineCommand) scans() bool {
	return c.value("scan-db") != ""
}

func (c *pipelineCommand) keyless() bool {
	b, _ := input.ParseBool(c.value("keyless"))
	return b
}

// sigstore reports whether a Sigstore key (key, the cosign-key secret) or
// keyless signing was given.
func (c *pipelineCommand) sigstore() bool {
	return c.value("key") != "" || c.value("cosign-key") != "" || c.keyless()
}

// signs reports whether a signing key of any kind was given. The GPG key is
// a secret: it comes from the environment (or INPUT_GPG-KEY in Actions).
func (c *pipelineCommand) signs() bool {
	return c.sigstore() || c.value("gpg-key") != ""
}

// stage runs cmd with the pipeline's values for the inputs it shares and
// set for the ones the pipeline derives, and returns its outputs. Secrets
// reach the stage the way they reached the pipeline, through the
// environment the stage reads them from; nothing else is read from the
// process environment or INPUT_* variables a second time.
func (c *pipelineCommand) stage(ctx context.Context, rt *Runtime, cmd Command, set map[string]string) (map[string]string, error) {
	if names := standalone(cmd); len(names) > 0 {
		set = maps.Clone(set)
		if set == nil {
			set = map[string]string{}
		}
		for _, n := range names {
			set[n] = "" // the pipeline's input of that name means something else
		}
	}
	getenv, err := c.resolve(rt, cmd, cmd.Inputs(), set)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("slipway %s: %w", cmd.Name(), err))
	}
	capture := &captureReporter{Reporter: rt.Report, outputs: map[string]string{}}
	child := *rt
	child.Report, child.Getenv, child.outputs = capture, getenv, cmd.Outputs()
	if err := cmd.Run(ctx, &child); err != nil {
		return nil, err
	}
	return capture.outputs, nil
}

// standalone returns the inputs of a stage that the pipeline neither offers
// nor forwards to it (verify's signer inputs: the pipeline's key and gpg-key
// are the signing keys).
func standalone(cmd Command) []string {
	if s, ok := cmd.(interface{ standaloneInputs() []string }); ok {
		return s.standaloneInputs()
	}
	return nil
}

// resolve gives inputs of stage cmd (nil: inputs shared by name only) the
// pipeline's values (set overriding them) and returns the environment a
// stage with those inputs reads its secrets from. A stage's standalone
// inputs keep their own defaults: the pipeline's value of the same name
// means something else (its key signs; verify's key is the public key to
// trust). Its prefixed inputs take the pipeline's "<stage>-<name>".
func (c *pipelineCommand) resolve(rt *Runtime, cmd Command, inputs []input.Input, set map[string]string) (func(string) string, error) {
	flags := map[string]string{}
	secrets := map[string]string{}
	var own []string
	name := func(n string) string { return n }
	if cmd != nil {
		own = standalone(cmd)
		name = func(n string) string { return pipelineName(cmd, n) }
	}
	for _, in := range inputs {
		v, shared := c.values[name(in.Name)]
		switch {
		case !shared || slices.Contains(own, in.Name):
		case in.Secret:
			secrets[in.Env] = *v
		default:
			flags[in.Name] = *v
		}
	}
	for k, v := range set {
		flags[k] = v
	}
	getenv := func(k string) string {
		if v, ok := secrets[k]; ok {
			return v
		}
		return rt.Getenv(k)
	}
	_, err := input.Resolve(inputs, input.Source{Flags: flags, Getenv: getenv})
	return getenv, err
}

// warmKey starts decrypting the cosign key while the build runs: the sign
// and attest stages that follow in this process then find it decrypted
// (package signing keeps decrypted keys in memory for the process), so the
// key's scrypt costs nothing on top of the build's pass. A key that cannot
// be decrypted (a wrong password) calls fail with the error, which stops
// the build; check found every other key problem before.
func (c *pipelineCommand) warmKey(ctx context.Context, rt *Runtime, fail context.CancelCauseFunc) {
	key := c.value("key")
	if key == "" && c.value("cosign-key") == "" || strings.Contains(key, "://") && !strings.HasPrefix(key, signing.EnvScheme) {
		return // no key file to decrypt (a KMS key is not cached)
	}
	var cfg signing.Config
	getenv, err := c.resolve(rt, nil, signerInputs(&cfg), nil)
	if err != nil || cfg.Validate() != nil {
		return
	}
	child := *rt
	child.Getenv = getenv
	go func() {
		if _, err := signing.New(ctx, cfg.Options(signingEnv(&child), nil)); err != nil && exitcode.Of(err) == exitcode.Usage {
			fail(fmt.Errorf("slipway sign: %w", err))
		}
	}()
}

// captureReporter keeps a stage's outputs for the pipeline and passes
// everything else (summaries, groups, masks, annotations) through.
type captureReporter struct {
	action.Reporter
	outputs map[string]string
}

func (r *captureReporter) Output(name, value string) error {
	r.outputs[name] = value
	return nil
}
