package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/build"
	"github.com/slipway/actions/internal/input"
)

// buildCommand is the build stage: options → build.Run → outputs and summary.
type buildCommand struct {
	net  netFlags
	opts build.Options
}

func (c *buildCommand) Name() string { return "build" }
func (c *buildCommand) Short() string {
	return "Run the build command in a controlled environment, digest every artifact in one pass, and write the artifact manifest and subjects file (optionally a reproducible tar.gz and OCI image)."
}

func (c *buildCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *buildCommand) stageInputs() []input.Input {
	o, img := &c.opts, &c.opts.Image
	return []input.Input{
		input.String(&o.Command, input.Spec{Name: "command",
			Description: "The build command, run in the workspace with bash -e -o pipefail -c (or sh -e -c), SOURCE_DATE_EPOCH set to the commit time, a fresh TMPDIR and only safe environment variables; empty to only collect artifacts an earlier step built."}),
		input.List(&o.Artifacts, input.Spec{Name: "artifacts", Required: true,
			Description: "Globs of the artifacts relative to the workspace, one per line or comma-separated: ** crosses directories, a matched directory means every file under it, and !GLOB excludes (the last matching glob decides)."}),
		input.String(&o.Archive, input.Spec{Name: "archive",
			Description: "File name of a reproducible .tar.gz of all artifacts to write in output-dir (e.g. app.tar.gz); empty for none."}),
		input.String(&o.OutputDir, input.Spec{Name: "output-dir", Default: build.DefaultOutputDir,
			Description: "Directory inside the workspace that receives manifest.json, subjects.sha256 and the archive."}),
		input.List(&o.PassEnv, input.Spec{Name: "pass-env",
			Description: "Names of environment variables to pass to the command besides PATH, HOME, locale, toolchain settings and GitHub context; secrets reach the command only when named here."}),
		input.List(&o.Toolchains, input.Spec{Name: "toolchains",
			Description: "The toolchains the build uses, recorded in the provenance with their versions and executables' digests: program names found on the command's PATH (gcc, gfortran, go, mpicc) or absolute paths, one per line or comma-separated. Nothing else installed is recorded; a name not on PATH fails before the command runs."}),
		input.Bool(&o.Trace, input.Spec{Name: "trace", Default: "false",
			Description: "Run the command under ptrace and record every executable it ran, with its digest, in the manifest and the provenance (Linux; needs ptrace to be permitted, see docs/build.md)."}),
		input.String(&o.SourceDateEpoch, input.Spec{Name: "source-date-epoch", Env: "SOURCE_DATE_EPOCH",
			Description: "Seconds since 1970 to use as SOURCE_DATE_EPOCH (archive and image times) instead of the HEAD commit time."}),
		input.String(&img.Base, input.Spec{Name: "image-base",
			Description: "Base of an OCI image to assemble without a daemon: scratch, oci-layout:DIR, or a registry reference (loopback registries over plain HTTP); empty builds no image."}),
		input.List(&img.Files, input.Spec{Name: "image-files",
			Description: "Globs of the files to put in the image (default: the artifacts), placed under image-dir by their path below their common directory."}),
		input.String(&img.Root, input.Spec{Name: "image-root",
			Description: "A directory in the workspace copied as is to / of the image, in a layer below the image files (like COPY DIR/ /): symbolic links stay links, resolved in the image; directories keep an empty or sticky (1777) state; owners 0:0, times SOURCE_DATE_EPOCH."}),
		input.String(&img.Dir, input.Spec{Name: "image-dir", Default: "/",
			Description: "Absolute directory in the image that receives the image files."}),
		input.List(&img.Entrypoint, input.Spec{Name: "image-entrypoint",
			Description: "The image's entrypoint, one argument per line or comma-separated (e.g. /app); it replaces the base's entrypoint and command."}),
		input.String(&img.Platform, input.Spec{Name: "image-platform", Default: "linux/amd64",
			Description: "Platform of the image as os/arch[/variant]; selects the base image from a multi-platform base."}),
		input.String(&img.Layout, input.Spec{Name: "image-layout",
			Description: "Directory inside the workspace for the image's OCI image layout (default: OUTPUT-DIR/image)."}),
	}
}

func (c *buildCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "manifest", Description: "Path of the artifact manifest (OUTPUT-DIR/manifest.json) that later stages read."},
		{Name: "subjects-file", Description: "Path of the sha256sum-format subjects file (OUTPUT-DIR/subjects.sha256)."},
		{Name: "base64-subjects", Description: "The subjects file, base64-encoded: the base64-subjects input of slsa-github-generator."},
		{Name: "archive", Description: "Path of the archive, when one was written."},
		{Name: "archive-digest", Description: "SHA-256 of the archive as sha256:HEX, when one was written."},
		{Name: "image-digest", Description: "Digest of the image manifest as sha256:HEX, when an image was built."},
		{Name: "image-layout", Description: "Path of the image's OCI image layout directory, when an image was built."},
	}
}

// options are the stage's options for a run in rt.
func (c *buildCommand) options(rt *Runtime) build.Options {
	o := c.opts
	o.Workspace, o.Getenv, o.Now, o.Log, o.Output = rt.Dir, rt.Getenv, rt.Now, rt.Log, rt.Stderr
	o.InActionImage = rt.ActionImage
	o.Group = rt.Report.Group
	o.Transport = rt.registry()
	return o
}

// Check checks the inputs, the declared toolchains and, for trace, ptrace.
func (c *buildCommand) Check(_ context.Context, rt *Runtime) error {
	return build.Check(c.options(rt))
}

func (c *buildCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	res, err := build.Run(ctx, c.options(rt))
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		rt.Report.Warning(w)
	}
	outs := [][2]string{
		{"manifest", res.ManifestPath},
		{"subjects-file", res.SubjectsPath},
		{"base64-subjects", res.Base64Subjects},
	}
	if a := res.Archive; a != nil {
		outs = append(outs, [2]string{"archive", a.Path}, [2]string{"archive-digest", a.Digest.String()})
	}
	if i := res.Image; i != nil {
		outs = append(outs, [2]string{"image-digest", i.Digest.String()}, [2]string{"image-layout", i.Name})
	}
	for _, kv := range outs {
		if err := rt.Output(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return rt.Report.Summary(buildSummary(res))
}

func buildSummary(res *build.Result) action.Summary {
	s := action.Summary{Title: "Build"}
	for _, r := range res.Manifest.Records {
		s.Rows = append(s.Rows, action.Row{Name: r.Name, Role: string(r.Role), Digest: r.Digest.String(), Size: r.Size})
	}
	b := res.Manifest.Build
	commit := "no git commit"
	if b.Commit != "" {
		commit = "commit " + b.Commit
		if b.Dirty {
			commit += " (dirty work tree)"
		}
	}
	s.Notes = append(s.Notes, fmt.Sprintf("Built from %s; SOURCE_DATE_EPOCH=%d.", commit, b.SourceDateEpoch))
	if len(b.Toolchains) > 0 {
		var tools []string
		for _, t := range b.Toolchains {
			tools = append(tools, strings.TrimSpace(t.Name+" "+t.Version))
		}
		s.Notes = append(s.Notes, "Toolchains: "+strings.Join(tools, ", ")+".")
	}
	if b.Traced {
		s.Notes = append(s.Notes, fmt.Sprintf("Traced: the command ran %d executable file(s), each recorded with its digest.", len(b.Executed)))
	}
	s.Notes = append(s.Notes, fmt.Sprintf("Manifest %s, subjects %s.", res.ManifestPath, res.SubjectsPath))
	return s
}
