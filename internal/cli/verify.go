package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/verify"
)

// verifyCommand is the verify stage: inputs → policy and subjects →
// verify.Verify → report lines, outputs and summary.
type verifyCommand struct {
	net                              netFlags
	subject, image, manifest, report string
	releaseManifest                  string
	bundles                          []string
	json, failedJobs                 bool
	trust                            trustInputs
	// m is the manifest read for the manifest input.
	m *artifact.Manifest
}

func (c *verifyCommand) Name() string { return "verify" }
func (c *verifyCommand) Short() string {
	return "Verify a file, a registry image or every artifact of a build manifest against a trust policy: signatures (key, keyless, GPG), digests, SLSA provenance, SBOMs and age."
}

func (c *verifyCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *verifyCommand) stageInputs() []input.Input {
	return append([]input.Input{
		input.String(&c.subject, input.Spec{Name: "subject",
			Description: "A file to verify (relative to the workspace); it is read once, whatever its size."}),
		input.String(&c.image, input.Spec{Name: "image",
			Description: "A registry image to verify (registry/repo:tag or @sha256:…), with the Sigstore bundles attached to it as OCI referrers and the signatures and attestations in cosign's sha256-HEX.sig and .att tags (as cosign sign and attest store them by default)."}),
		input.List(&c.bundles, input.Spec{Name: "bundles",
			Description: "The subject's Sigstore bundles and OpenPGP signatures; by default SUBJECT.sigstore.json, SUBJECT.intoto.sigstore.json and SUBJECT.asc where they exist."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "A build manifest: every artifact it lists is verified, with the bundles and signatures it records about it, and must have its recorded digest."}),
		input.String(&c.releaseManifest, input.Spec{Name: "release-manifest",
			Description: "With manifest of a dispatched job's outputs (slipway dispatch's outputs-manifest): the manifest of the release the job ran (its files beside it: slipway export's, or WORKDIR/.slipway/release-ID/manifest.json), verified too; every output's provenance must name that release and its artifacts, so the path leads from an output back to the commit."}),
		input.Bool(&c.failedJobs, input.Spec{Name: "allow-failed-jobs", Default: "false",
			Description: "Accept outputs of a dispatched Slurm job that did not complete with exit code 0 (FAILED, TIMEOUT, OUT_OF_MEMORY, …; check job names the state). By default such an output fails verification: it is evidence of a failed run, not a result."}),
	}, append(c.trust.inputs(),
		input.Bool(&c.json, input.Spec{Name: "json", Default: "false",
			Description: "Print the report as JSON instead of one line per check."}),
		input.String(&c.report, input.Spec{Name: "report",
			Description: "Also write the JSON report to this file."}),
	)...)
}

// standaloneInputs are verify's signer inputs: the pipeline neither offers
// nor forwards them (its key and gpg-key are the signing keys).
func (c *verifyCommand) standaloneInputs() []string { return signerInputNames }

func (c *verifyCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "verified", Description: "true when every check passed, false otherwise."},
		{Name: "report", Description: "Path of the JSON report, when one was written."},
	}
}

func (c *verifyCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	// The report is written, the subject read: both inside the workspace,
	// checked before anything is verified.
	if err := rt.checkInside("report", c.report, "subject", c.subject); err != nil {
		return err
	}
	if c.releaseManifest != "" && c.manifest == "" {
		return exitcode.BadInputf("release-manifest is set without manifest: give the outputs manifest of the dispatched job as manifest")
	}
	subjects, err := c.subjects(rt)
	if err != nil {
		return err
	}
	p, err := c.trust.load(rt)
	if err != nil {
		return err
	}
	var in *artifact.Manifest // the input release of a dispatched job's outputs
	if c.releaseManifest != "" {
		if in, err = artifact.ReadManifest(rt.path(c.releaseManifest)); err != nil {
			return exitcode.WithFile(exitcode.BadInput(err), c.releaseManifest)
		}
	}
	var r *verify.Report
	err = rt.Group("slipway verify: checking "+strconv.Itoa(len(subjects))+" subject(s) against "+p.Source, func() error {
		var err error
		opts := []verify.Option{verify.WithLogger(rt.Log), verify.WithRegistryOptions(registryOptions(ctx, rt)...)}
		if c.failedJobs {
			opts = append(opts, verify.WithFailedJobs())
		}
		v := verify.New(p, opts...)
		switch {
		case in != nil:
			r, err = v.VerifyChain(ctx, c.m, rt.Dir, in, filepath.Dir(rt.path(c.releaseManifest)))
		case c.m != nil:
			r, err = v.VerifyManifest(ctx, c.m, rt.Dir)
		default:
			r, err = v.Verify(ctx, subjects)
		}
		return err
	})
	if err != nil {
		return exitcode.Infra(fmt.Errorf("verifying: %w", err))
	}
	relativize(r, rt.Dir)
	if c.json {
		err = r.WriteJSON(rt.Stdout)
	} else {
		err = r.WriteText(rt.Stdout)
	}
	if err != nil {
		return exitcode.Infra(fmt.Errorf("writing the report: %w", err))
	}
	if c.report != "" {
		report, err := rt.inside("report", c.report)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(report, 0o644, func(w io.Writer) error { return r.WriteJSON(w) }); err != nil {
			return exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing the report: %w", err)), c.report)
		}
	}
	// With --json on a terminal, stdout holds only the JSON report.
	if !c.json || rt.InActions {
		if err := rt.Output("verified", strconv.FormatBool(r.Verified)); err != nil {
			return err
		}
		if c.report != "" {
			if err := rt.Output("report", c.report); err != nil {
				return err
			}
		}
	}
	if err := rt.Report.Summary(verifySummary(r)); err != nil {
		return err
	}
	if failed := r.Failed(); len(failed) > 0 {
		file := failed[0].Bundle
		if file == "" {
			file = failed[0].Subject
		}
		if r.Unverifiable() {
			return exitcode.WithFile(exitcode.Infraf("%d check(s) could not be made, none failed; the first: %s; run verify again when the registry answers", len(failed), failed[0].Line()), file)
		}
		return exitcode.WithFile(exitcode.Failuref("%d check(s) failed; the first: %s", len(failed), failed[0].Line()), file)
	}
	return nil
}

// subjects resolves the subject or manifest inputs into what to verify.
func (c *verifyCommand) subjects(rt *Runtime) ([]verify.Subject, error) {
	given := 0
	for _, v := range []string{c.subject, c.image, c.manifest} {
		if v != "" {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, exitcode.BadInputf("more than one of subject, image and manifest is set; give one: a file, an image, or a manifest whose artifacts are all verified")
	case c.image != "":
		if len(c.bundles) > 0 {
			return nil, exitcode.BadInputf("bundles is set with image; an image's bundles are read from its registry: drop bundles")
		}
		if _, err := registryref.Parse(c.image); err != nil {
			return nil, exitcode.BadInput(err)
		}
		return []verify.Subject{{Name: c.image, Image: c.image}}, nil
	case c.manifest != "":
		if len(c.bundles) > 0 {
			return nil, exitcode.BadInputf("bundles is set with manifest; a manifest names each artifact's bundles itself: drop bundles, or verify one file with subject")
		}
		m, err := artifact.ReadManifest(rt.path(c.manifest))
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(err), c.manifest)
		}
		subjects := verify.ManifestSubjects(m, rt.Dir)
		if len(subjects) == 0 {
			return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q lists no artifacts to verify", c.manifest), c.manifest)
		}
		c.m = m // verified with VerifyManifest, which also checks it against the provenance
		return subjects, nil
	case c.subject != "":
		path := rt.path(c.subject)
		fi, err := os.Stat(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, exitcode.WithFile(exitcode.BadInputf("the subject %q does not exist; give the path of the file to verify, relative to the workspace", c.subject), c.subject)
			}
			return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading the subject: %w", err)), c.subject)
		}
		if !fi.Mode().IsRegular() {
			return nil, exitcode.WithFile(exitcode.BadInputf("the subject %q is not a regular file; give a file (image verification is not supported yet)", c.subject), c.subject)
		}
		s := verify.Subject{Name: c.subject, Path: path}
		for _, b := range c.bundles {
			s.Bundles = append(s.Bundles, rt.path(b))
		}
		return []verify.Subject{s}, nil
	}
	return nil, exitcode.BadInputf("nothing to verify: give subject (a file), image (a registry image) or manifest (a build manifest)")
}

// registryOptions reads images with the Docker credentials (docker login),
// the runtime's network limits and retries that end with ctx.
func registryOptions(ctx context.Context, rt *Runtime) []remote.Option {
	return append(rt.Net.RemoteOptions(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("slipway"))
}

// relativize shows paths inside the workspace relative to it, as the user
// gave them, in the report and annotations.
func relativize(r *verify.Report, dir string) {
	rel := func(p string) string { return relPath(dir, p) }
	for _, s := range r.Subjects {
		s.Path = rel(s.Path)
		for i := range s.Checks {
			s.Checks[i].Bundle = rel(s.Checks[i].Bundle)
		}
	}
}

// relPath shows an absolute path inside the workspace dir relative to it,
// with slashes; other paths as they are.
func relPath(dir, p string) string {
	if p == "" || !filepath.IsAbs(p) {
		return p
	}
	if r, err := filepath.Rel(dir, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(r)
	}
	return p
}

func verifySummary(r *verify.Report) action.Summary {
	sum := action.Summary{Title: "Verification"}
	for _, s := range r.Subjects {
		role := "verified"
		if !s.Verified {
			role = "FAILED"
		}
		sum.Rows = append(sum.Rows, action.Row{Name: s.Name, Role: role, Digest: s.Digest, Size: s.Size})
	}
	// A check about evidence that covers several subjects (a test result
	// about the whole manifest) fails once per subject with the same line:
	// the summary says it once.
	seen := map[string]bool{}
	for _, c := range r.Failed() {
		if l := c.Line(); !seen[l] {
			seen[l] = true
			sum.Notes = append(sum.Notes, l)
		}
	}
	for _, l := range r.Locations {
		sum.Notes = append(sum.Notes, l.Line())
	}
	if r.Verified {
		sum.Notes = append(sum.Notes, "Every check passed against policy "+r.Policy+".")
	}
	return sum
}
