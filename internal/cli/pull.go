package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/pull"
	"github.com/slipway/actions/internal/push"
	"github.com/slipway/actions/internal/verify"
	"github.com/slipway/actions/internal/workspace"
)

// pullCommand is the consumer's side: inputs → policy and options →
// pull.Pull → the report, outputs and summary.
type pullCommand struct {
	ref, outputDir       string
	allowTag, skipVerify bool
	trust                trustInputs
	creds                push.Credentials
	net                  netFlags
}

func (c *pullCommand) Name() string { return "pull" }
func (c *pullCommand) Short() string {
	return "Fetch a release from its registry by digest, verify its files against a trust policy, and only then restore them (artifacts, SBOMs, signatures, provenance, manifest) at their paths in the output directory."
}

func (c *pullCommand) Inputs() []input.Input {
	in := []input.Input{
		input.String(&c.ref, input.Spec{Name: "ref", Required: true,
			Description: "The release, by digest: registry/repository@sha256:HEX (the push's pinned-ref output)."}),
		input.String(&c.outputDir, input.Spec{Name: "output-dir", Required: true,
			Description: "Directory inside the workspace that receives the release's files at the paths the build gave them; it must not exist or be empty, and appears only once every check passed."}),
		input.Bool(&c.allowTag, input.Spec{Name: "allow-tag", Default: "false",
			Description: "Accept a tag as ref: it is resolved once, and the digest it named then is pulled and printed (pinned-ref); by default a tag is refused, as whoever can push may move it."}),
	}
	in = append(in, c.trust.inputs()...)
	in = append(in, input.Bool(&c.skipVerify, input.Spec{Name: "insecure-skip-verify", Default: "false",
		Description: "Restore the release without a policy: digests are checked, signatures and provenance are not (verified=false). Without it, pull refuses to run without policy or a signer."}))
	in = append(in, registryInputs(&c.creds)...)
	return append(in, c.net.inputs()...)
}

func (c *pullCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "manifest", Description: "Path of the release's build manifest in the output directory: slipway verify --manifest reads it again."},
		{Name: "verified", Description: "true when the release passed the trust policy; false with insecure-skip-verify."},
		{Name: "pinned-ref", Description: "The release pulled, by digest: registry/repository@sha256:HEX (the tag's digest with allow-tag)."},
	}
}

func (c *pullCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	opts := pull.Options{Ref: c.ref, AllowTag: c.allowTag, SkipVerify: c.skipVerify, Credentials: c.creds, Log: rt.Log,
		Transport: rt.registry()}
	opts.Credentials.GitHubActor = rt.Getenv("GITHUB_ACTOR")
	switch {
	case c.skipVerify && c.trust.given():
		return exitcode.BadInputf("insecure-skip-verify is set with a policy or signer; drop one: verify the release, or restore it unverified")
	case !c.skipVerify && !c.trust.given():
		return exitcode.BadInputf("pull verifies a release before writing it, and no one to trust is given: set policy (a TrustPolicy file, see docs/policy.md) or a signer (key, gpg-key, or certificate-identity with certificate-oidc-issuer); or, knowingly, insecure-skip-verify")
	case !c.skipVerify:
		p, err := c.trust.load(rt)
		if err != nil {
			return err
		}
		opts.Verifier = verify.New(p, verify.WithLogger(rt.Log), verify.WithRegistryOptions(registryOptions(ctx, rt)...))
	default:
		rt.Report.Warning("slipway pull: insecure-skip-verify: the release's digests are checked, but not who signed it nor how it was built")
	}
	out, err := workspace.Resolve(rt.Dir, c.outputDir)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"output-dir\": %w", err))
	}
	opts.OutputDir = out
	var res *pull.Result
	err = rt.Group("slipway pull: "+c.ref, func() error {
		res, err = pull.Pull(ctx, opts)
		return err
	})
	if res != nil && res.Report != nil {
		relativize(res.Report, rt.Dir)
		if werr := res.Report.WriteText(rt.Stdout); werr != nil {
			return exitcode.Infra(fmt.Errorf("writing the report: %w", werr))
		}
	}
	if err != nil {
		return err
	}
	if res.Tag != "" {
		rt.Report.Warning(fmt.Sprintf("slipway pull: pulled tag %q, resolved once to %s: pin that digest (pinned-ref) next time", res.Tag, res.PinnedRef))
	}
	for _, o := range []struct{ name, value string }{
		{"manifest", relPath(rt.Dir, res.Manifest)},
		{"verified", strconv.FormatBool(res.Report != nil && res.Report.Verified)},
		{"pinned-ref", res.PinnedRef},
	} {
		if err := rt.Output(o.name, o.value); err != nil {
			return err
		}
	}
	return rt.Report.Summary(pullSummary(res, c.outputDir))
}

func pullSummary(res *pull.Result, dir string) action.Summary {
	s := action.Summary{Title: "Pull " + res.PinnedRef}
	for _, f := range res.Files {
		s.Rows = append(s.Rows, action.Row{Name: f.Name, Role: "file", Digest: f.Digest.String(), Size: f.Size})
	}
	if res.Report != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("Every check passed against policy %s; the files are in %s.", res.Report.Policy, dir))
	} else {
		s.Notes = append(s.Notes, "Not verified (insecure-skip-verify): only the digests were checked; the files are in "+dir+".")
	}
	return s
}
