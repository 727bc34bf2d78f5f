package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/sbom"
)

// sbomCommand is the sbom stage: options → sbom.Generate → outputs and summary.
type sbomCommand struct {
	subject, format, output, manifest string
}

func (c *sbomCommand) Name() string { return "sbom" }
func (c *sbomCommand) Short() string {
	return "Describe one artifact (file, directory, OCI layout or registry image) in a CycloneDX or SPDX SBOM bound to its SHA-256."
}

func (c *sbomCommand) Inputs() []input.Input {
	return []input.Input{
		input.String(&c.subject, input.Spec{Name: "subject", Required: true,
			Description: "What to describe: a file or directory path (relative to the workspace), oci-layout:DIR, or registry:HOST/REPO:TAG (plain HTTP only for loopback registries)."}),
		input.String(&c.format, input.Spec{Name: "format", Default: sbom.CycloneDXJSON,
			Description: "Document format: cyclonedx-json (CycloneDX 1.6), cyclonedx-json@1.7, or spdx-json (SPDX 2.3)."}),
		input.String(&c.output, input.Spec{Name: "output",
			Description: "Where to write the SBOM; by default SUBJECT.cdx.json or SUBJECT.spdx.json next to a file, directory or OCI layout, and REPO-TAG.cdx.json in the workspace for a registry image."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "An artifact manifest (manifest.json in the build stage's output directory) to add the SBOM to as an sbom record describing the subject's digest."}),
	}
}

func (c *sbomCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "sbom-path", Description: "Path of the SBOM written, as given or defaulted (relative to the workspace when the subject was)."},
		{Name: "sbom-digest", Description: "SHA-256 of the SBOM file, as sha256:HEX."},
		{Name: "subject-digest", Description: "SHA-256 the SBOM is bound to, as sha256:HEX: the file's digest, the directory's tree digest, or the image manifest digest."},
	}
}

func (c *sbomCommand) Run(ctx context.Context, rt *Runtime) error {
	created, err := sourceDateEpoch(rt)
	if err != nil {
		return err
	}
	var res *sbom.Result
	defer sbom.Cleanup() // one stage runs at a time in this process
	err = rt.Group("slipway sbom: cataloging "+strings.TrimSpace(c.subject), func() error {
		res, err = sbom.Generate(ctx, sbom.Options{
			Subject: c.subject, Format: c.format, Output: c.output, Manifest: c.manifest,
			Dir: rt.Dir, Created: created, Log: rt.Log,
		})
		return err
	})
	if err != nil {
		return err
	}
	for _, o := range [][2]string{
		{"sbom-path", res.Output},
		{"sbom-digest", res.Digest.String()},
		{"subject-digest", res.SubjectDigest.String()},
	} {
		if err := rt.Output(o[0], o[1]); err != nil {
			return err
		}
	}
	notes := []string{fmt.Sprintf("%s %s, %d packages, bound to the %s %s.", res.Format.Name, res.Format.Version, res.Packages, res.Subject.Kind, res.SubjectDigest)}
	if res.Subject.Kind == sbom.KindDir {
		notes = append(notes, fmt.Sprintf("Directory digest: sha256 of the sorted sha256sum listing of its %d regular files.", res.SubjectFiles))
	}
	if res.ManifestUpdated {
		notes = append(notes, fmt.Sprintf("Recorded in %s.", c.manifest))
	}
	return rt.Report.Summary(action.Summary{
		Title: "SBOM",
		Rows: []action.Row{
			{Name: res.SubjectName, Role: "subject", Digest: res.SubjectDigest.String(), Size: -1},
			{Name: res.Output, Role: "sbom", Digest: res.Digest.String(), Size: res.Size},
		},
		Notes: notes,
	})
}

// sourceDateEpoch is the SBOM's creation time: SOURCE_DATE_EPOCH when set
// (reproducible documents), now otherwise.
func sourceDateEpoch(rt *Runtime) (time.Time, error) {
	v := strings.TrimSpace(rt.Getenv("SOURCE_DATE_EPOCH"))
	if v == "" {
		return rt.Now(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, exitcode.BadInputf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970; unset it or set it to e.g. $(git log -1 --format=%%ct)", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
