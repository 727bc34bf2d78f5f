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
	net                      netFlags
	subjects                 []string
	format, output, manifest string
}

func (c *sbomCommand) Name() string { return "sbom" }
func (c *sbomCommand) Short() string {
	return "Describe each artifact (file, directory, OCI layout or registry image; by default every artifact of the manifest) in a CycloneDX or SPDX SBOM bound to its SHA-256."
}

func (c *sbomCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *sbomCommand) stageInputs() []input.Input {
	return []input.Input{
		input.List(&c.subjects, input.Spec{Name: "subject",
			Description: "What to describe, one per line or comma-separated, each getting its own SBOM: a file or directory path (relative to the workspace), a glob of files in the artifacts syntax of build (** crosses directories, !GLOB excludes), oci-layout:DIR, or registry:HOST/REPO:TAG (plain HTTP only for loopback registries); empty with manifest: every artifact of the manifest."}),
		input.String(&c.format, input.Spec{Name: "format", Default: sbom.CycloneDXJSON,
			Description: "Document format: cyclonedx-json (CycloneDX 1.6), cyclonedx-json@1.7, or spdx-json (SPDX 2.3)."}),
		input.String(&c.output, input.Spec{Name: "output",
			Description: "Where to write the SBOM of a single subject; by default (and always with several subjects) SUBJECT.cdx.json or SUBJECT.spdx.json next to a file, directory or OCI layout, and REPO-TAG.cdx.json in the workspace for a registry image."}),
		input.String(&c.manifest, input.Spec{Name: "manifest",
			Description: "An artifact manifest (manifest.json in the build stage's output directory) to add each SBOM to as an sbom record describing its subject's digest; a file it records is not hashed again (its size is checked)."}),
	}
}

func (c *sbomCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "sbom-path", Description: "Path of the (first subject's) SBOM, as given or defaulted (relative to the workspace when the subject was)."},
		{Name: "sbom-digest", Description: "SHA-256 of the (first subject's) SBOM file, as sha256:HEX."},
		{Name: "subject-digest", Description: "SHA-256 the (first) SBOM is bound to, as sha256:HEX: the file's digest, the directory's tree digest, or the image manifest digest."},
		{Name: "sboms", Description: "Paths of every SBOM written, one per line, in the order of the subjects."},
	}
}

func (c *sbomCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	created, err := sourceDateEpoch(rt)
	if err != nil {
		return err
	}
	if err := rt.checkInside("output", c.output, "manifest", c.manifest); err != nil {
		return err
	}
	subjects, err := sbom.Subjects(ctx, c.subjects, c.manifest, rt.Dir)
	if err != nil {
		return err
	}
	for _, s := range subjects {
		// A file, directory or OCI layout is read from the workspace only;
		// its SBOM goes next to it. (Globs were expanded inside it.)
		if p, err := sbom.ParseSubject(s); err == nil && p.Kind != sbom.KindRegistry {
			if err := rt.checkInside("subject", p.Path); err != nil {
				return err
			}
		}
	}
	if len(subjects) > 1 && strings.TrimSpace(c.output) != "" {
		return exitcode.BadInputf("output %q names one file, and the subjects are %d (%s); leave output empty: each SBOM goes next to its subject", c.output, len(subjects), strings.Join(subjects, ", "))
	}
	defer sbom.Cleanup() // one stage runs at a time in this process
	var results []*sbom.Result
	for _, subject := range subjects {
		err := rt.Group("slipway sbom: cataloging "+subject, func() error {
			res, err := sbom.Generate(ctx, sbom.Options{
				Subject: subject, Format: c.format, Output: c.output, Manifest: c.manifest,
				Dir: rt.Dir, Created: created, Log: rt.Log, Transport: rt.registry(),
			})
			if err != nil {
				return err
			}
			results = append(results, res)
			return nil
		})
		if err != nil {
			if len(subjects) > 1 {
				return fmt.Errorf("SBOM of %q: %w", subject, err)
			}
			return err
		}
	}
	var paths []string
	for _, res := range results {
		paths = append(paths, res.Output)
	}
	first := results[0]
	for _, o := range [][2]string{
		{"sbom-path", first.Output},
		{"sbom-digest", first.Digest.String()},
		{"subject-digest", first.SubjectDigest.String()},
		{"sboms", strings.Join(paths, "\n")},
	} {
		if err := rt.Output(o[0], o[1]); err != nil {
			return err
		}
	}
	return rt.Report.Summary(sbomSummary(results, c.manifest))
}

// sbomSummary is one row per subject and per SBOM, and a note per SBOM.
func sbomSummary(results []*sbom.Result, manifest string) action.Summary {
	s := action.Summary{Title: "SBOM"}
	for _, res := range results {
		s.Rows = append(s.Rows,
			action.Row{Name: res.SubjectName, Role: "subject", Digest: res.SubjectDigest.String(), Size: -1},
			action.Row{Name: res.Output, Role: "sbom", Digest: res.Digest.String(), Size: res.Size})
		note := fmt.Sprintf("%s: %s %s, %d packages, bound to the %s %s", res.Output, res.Format.Name, res.Format.Version, res.Packages, res.Subject.Kind, res.SubjectDigest)
		switch {
		case res.Subject.Kind == sbom.KindDir:
			note += fmt.Sprintf(" (sha256 of the sorted sha256sum listing of its %d regular files)", res.SubjectFiles)
		case res.RecordedDigest:
			note += " (as the manifest records it; the size was checked)"
		}
		if n := res.Native; n != nil {
			note += fmt.Sprintf("; shared libraries: %d from OS packages, %d owned by no package, %d not found", n.Packaged, n.Unowned, n.Missing)
		}
		if res.ManifestUpdated {
			note += fmt.Sprintf("; recorded in %s", manifest)
		}
		s.Notes = append(s.Notes, note+".")
	}
	return s
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
