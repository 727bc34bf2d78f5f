package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/version"
)

// attestCommand is the attest stage: options → builder identity and signer
// → attest.Run → outputs and summary. Key inputs are named as in sign.
type attestCommand struct {
	net                                                              netFlags
	subject, manifest, image, predicateType, sbom, sbomLimit, bundle string
	builderID, registryFormat, jobWorkflowRef                        string
	runnerLabels                                                     []string

	sigstore signing.Config
	creds    push.Credentials
}

func (c *attestCommand) Name() string { return "attest" }
func (c *attestCommand) Short() string {
	return "Attest a file, every artifact of a build manifest, or a registry image with signed SLSA v1 provenance or an SBOM, as in-toto statements in Sigstore bundles."
}

func (c *attestCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *attestCommand) stageInputs() []input.Input {
	ins := []input.Input{
		input.String(&c.subject, input.Spec{Name: "subject",
			Description: "A file to attest (relative to the workspace); with manifest, one of its artifacts, whose recorded digest is used."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "A build manifest: its build record feeds the provenance, all its artifacts are the subjects of one statement (unless subject or image is set), and provenance records are added to it."}),
		input.String(&c.image, input.Spec{Name: "image",
			Description: "A registry image to attest (registry/repo:tag or @sha256:…); the attestation is stored in the registry as cosign stores it."}),
		input.String(&c.predicateType, input.Spec{Name: "predicate-type", Default: string(attest.KindProvenance),
			Description: "What to attest: slsaprovenance1 (SLSA v1 provenance), cyclonedx or spdx (an SBOM)."}),
		input.String(&c.sbom, input.Spec{Name: "sbom",
			Description: "The SBOM to attest for predicate-type cyclonedx or spdx; empty with manifest attests every SBOM of that format it records."}),
		input.String(&c.sbomLimit, input.Spec{Name: "sbom-inline-limit", Default: "8MiB",
			Description: "Largest SBOM inlined into its statement (e.g. 8MiB, 500KB); larger ones are attested by digest reference."}),
		input.String(&c.bundle, input.Spec{Name: "bundle",
			Description: "Where to write the bundle; by default SUBJECT.intoto.sigstore.json, provenance.intoto.sigstore.json next to the manifest, or SBOM.intoto.sigstore.json (an image's goes to the registry only)."}),
		input.String(&c.builderID, input.Spec{Name: "builder-id",
			Description: "The builder ID of a self-hosted runner pool or a machine running the CLI, as a URI (required on self-hosted runners; refused on GitHub-hosted ones, whose ID is their workflow)."}),
		input.String(&c.jobWorkflowRef, input.Spec{Name: "job-workflow-ref", ActionDefault: "${{ job.workflow_ref }}",
			Description: "The workflow file that defines this job (owner/repo/.github/workflows/f.yml@ref); leave the action's default, GitHub's job.workflow_ref, so that a key-signed provenance names the same builder as keyless signing (the job_workflow_ref claim). Empty (GitHub Enterprise Server, the CLI): the run's top-level workflow, GITHUB_WORKFLOW_REF."}),
		input.List(&c.runnerLabels, input.Spec{Name: "runner-labels",
			Description: "The runner's labels, recorded in the provenance as the operator states them."}),
		input.String(&c.registryFormat, input.Spec{Name: "registry-format", Default: string(attest.FormatBoth),
			Description: "How an image's attestation is stored: legacy (cosign's sha256-HEX.att tag), referrer (an OCI 1.1 referrer holding the bundle) or both."}),
	}
	ins = append(ins, signerInputs(&c.sigstore)...)
	return append(ins, registryInputs(&c.creds)...)
}

func (c *attestCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "bundle-path", Description: "Path of the bundle written (one per line when several SBOMs were attested); empty for an image without bundle."},
		{Name: "bundle-digest", Description: "SHA-256 of each bundle, as sha256:HEX, in the order of bundle-path."},
		{Name: "predicate-type", Description: "Predicate type of each statement, in the order of bundle-path (an SBOM over the inline limit has the sbom-reference type)."},
		{Name: "image", Description: "The attested image pinned by digest, registry/repo@sha256:HEX."},
		{Name: "attestations", Description: "Where the image's attestations were stored in the registry, one per line."},
	}
}

func (c *attestCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("subject", c.subject, "manifest", c.manifest, "sbom", c.sbom, "bundle", c.bundle); err != nil {
		return err
	}
	o, err := c.options()
	if err != nil {
		return err
	}
	o.Dir, o.Log, o.Version = rt.Dir, rt.Log, version.String()
	o.Registry.Transport = rt.registry()
	if o.Registry.Keychain, err = registryKeychain(rt, c.creds, c.image); err != nil {
		return err
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	maskKeyEnv(rt, c.sigstore)
	env := signingEnv(rt)
	tokens := c.sigstore.Tokens(env)
	if o.Kind == attest.KindProvenance {
		if o.Builder, err = c.builder(ctx, rt, tokens); err != nil {
			return err
		}
		rt.Log.Info("builder identified", "id", o.Builder.ID, "source", o.Builder.IDSource, "environment", o.Builder.Environment)
	}
	// The key is decrypted (or the certificate fetched) while attest hashes
	// a bare subject file.
	o.Signer = signing.Start(ctx, c.sigstore.Options(env, tokens), nil)

	var res *attest.Result
	target := c.image
	if target == "" {
		target = c.subject + c.manifest
		if c.subject != "" && c.manifest != "" {
			target = c.subject + " (" + c.manifest + ")"
		}
	}
	err = rt.Group("slipway attest: "+string(o.Kind)+" for "+target, func() error {
		res, err = attest.Run(ctx, o)
		return err
	})
	if err != nil {
		return err
	}
	return c.report(rt, o, res)
}

// options turns the inputs into the stage's options.
func (c *attestCommand) options() (attest.Options, error) {
	kind, err := attest.ParseKind(c.predicateType)
	if err != nil {
		return attest.Options{}, exitcode.BadInput(fmt.Errorf("input \"predicate-type\": %w", err))
	}
	limit, err := attest.ParseSize(c.sbomLimit)
	if err != nil {
		return attest.Options{}, exitcode.BadInput(fmt.Errorf("input \"sbom-inline-limit\": %w", err))
	}
	format, err := attest.ParseRegistryFormat(c.registryFormat)
	if err != nil {
		return attest.Options{}, exitcode.BadInput(fmt.Errorf("input \"registry-format\": %w", err))
	}
	return attest.Options{
		Subject: c.subject, Manifest: c.manifest, Image: c.image, Kind: kind, SBOM: c.sbom,
		SBOMInlineLimit: limit, Bundle: c.bundle, Registry: attest.Registry{Format: format},
	}, nil
}

func (c *attestCommand) checkKeys() error { return checkSigstoreKey(c.sigstore) }

// builder detects the builder. Signing keyless, the job's OIDC token is
// fetched first: its claims, which Fulcio will certify, name the builder.
func (c *attestCommand) builder(ctx context.Context, rt *Runtime, tokens *signing.Tokens) (*provenance.Builder, error) {
	cfg := provenance.BuilderConfig{Getenv: rt.Getenv, ConfiguredID: c.builderID, RunnerLabels: c.runnerLabels, JobWorkflowRef: c.jobWorkflowRef}
	if c.sigstore.Keyless {
		tok, err := tokens.Peek(ctx)
		if err != nil {
			return nil, err
		}
		if cfg.Claims, err = oidc.ParseGitHubClaims(tok); err != nil {
			rt.Log.Info("the OIDC token carries no GitHub Actions job claims; the builder is identified from the environment", "reason", err)
			cfg.Claims = nil
		}
	}
	b, err := provenance.DetectBuilder(cfg)
	if errors.Is(err, provenance.ErrBuilderID) {
		return nil, exitcode.BadInput(fmt.Errorf("input \"builder-id\": %w", err))
	}
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	return b, nil
}

func (c *attestCommand) report(rt *Runtime, o attest.Options, res *attest.Result) error {
	var paths, digests, types, attached []string
	sum := action.Summary{Title: "Attestations"}
	seen := map[string]bool{}
	for _, a := range res.Attestations {
		for _, s := range a.Subjects {
			if !seen[s.Name] {
				seen[s.Name] = true
				sum.Rows = append(sum.Rows, action.Row{Name: s.Name, Role: "subject", Digest: s.Digest.String(), Size: -1})
			}
		}
		if a.BundlePath != "" {
			paths, digests = append(paths, a.BundlePath), append(digests, a.BundleDigest.String())
			sum.Rows = append(sum.Rows, action.Row{Name: a.BundlePath, Role: "attestation", Digest: a.BundleDigest.String(), Size: a.BundleSize})
		}
		types = append(types, a.PredicateType)
		attached = append(attached, a.Attached...)
		sum.Notes = append(sum.Notes, fmt.Sprintf("%s statement about %d subject(s).", a.PredicateType, len(a.Subjects)))
	}
	if o.Builder != nil {
		sum.Notes = append(sum.Notes, fmt.Sprintf("Builder %s (%s, %s).", o.Builder.ID, o.Builder.IDSource, o.Builder.Environment))
	}
	for _, w := range attached {
		sum.Notes = append(sum.Notes, "Stored in the registry: "+w+".")
	}
	if res.ManifestUpdated {
		what := "Provenance"
		if o.Kind != attest.KindProvenance {
			what = "Attestation"
		}
		sum.Notes = append(sum.Notes, fmt.Sprintf("%s records added to %s.", what, o.Manifest))
	}
	outs := map[string]string{
		"bundle-path": strings.Join(paths, "\n"), "bundle-digest": strings.Join(digests, "\n"),
		"predicate-type": strings.Join(types, "\n"), "attestations": strings.Join(attached, "\n"),
	}
	if o.Image != "" && len(res.Attestations) > 0 && len(res.Attestations[0].Subjects) > 0 {
		s := res.Attestations[0].Subjects[0]
		outs["image"] = s.Name + "@" + s.Digest.String()
	}
	for _, out := range c.Outputs() {
		if v := outs[out.Name]; v != "" {
			if err := rt.Output(out.Name, v); err != nil {
				return err
			}
		}
	}
	return rt.Report.Summary(sum)
}
