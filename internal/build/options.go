package build

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exectrace"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/fileset"
	"github.com/slipway/actions/internal/gitinfo"
	"github.com/slipway/actions/internal/ociimage"
	"github.com/slipway/actions/internal/toolchain"
	wsroot "github.com/slipway/actions/internal/workspace" // the tests have a workspace helper
)

// Names of the files the stage writes in the output directory.
const (
	ManifestFile     = "manifest.json"
	SubjectsFile     = "subjects.sha256"
	DefaultOutputDir = "dist"
	DefaultImageDir  = "image" // under the output directory
)

// Options configure one build.
type Options struct {
	// Workspace is the absolute directory the command runs in; artifact
	// globs and output paths are relative to it.
	Workspace string
	// Command is the build command; empty runs nothing and only collects
	// the artifacts (built by an earlier step).
	Command string
	// Artifacts are the globs naming the artifacts (see package fileset).
	Artifacts []string
	// Archive names an optional .tar.gz of all artifacts, written in
	// OutputDir.
	Archive string
	// OutputDir receives the manifest, the subjects file and the archive;
	// DefaultOutputDir when empty.
	OutputDir string
	// PassEnv names variables passed to the command besides execenv.Allowed.
	PassEnv []string
	// Toolchains are the toolchains the build uses (program names found on
	// the command's PATH, or absolute paths): each is recorded with its
	// version and its executable's digest. Nothing else installed is.
	Toolchains []string
	// Trace runs the command under ptrace and records every executable it
	// ran, with its digest (package exectrace).
	Trace bool
	// InActionImage says that the command runs in slipway's action image,
	// which has busybox and no compilers: a command that is not found
	// (exit status 127) is explained so.
	InActionImage bool
	// SourceDateEpoch, when not empty, overrides the commit time (seconds
	// since the Unix epoch).
	SourceDateEpoch string
	// Image describes an OCI image to assemble; none when Image.Base is
	// empty.
	Image ImageOptions

	// Getenv reads the environment the command's variables come from.
	Getenv func(string) string
	// Now is the clock for the recorded start and end times.
	Now func() time.Time
	// Log receives progress; nil is silent.
	Log *slog.Logger
	// Output receives the command's standard output and error.
	Output io.Writer
	// Group, when set, wraps the command's output in a log section.
	Group func(title string) (end func())
	// Git reads the source's commit; nil picks one for the environment.
	Git gitinfo.Reader
	// Transport reaches registries for a registry base image.
	Transport http.RoundTripper
}

// ImageOptions describe the OCI image mode.
type ImageOptions struct {
	// Base is "scratch", "oci-layout:<dir>" (or a directory with an OCI layout), or
	// a registry reference. Empty: no image.
	Base string
	// Files are globs of the files placed in the image; empty means the
	// artifacts.
	Files []string
	// Root is a directory inside the workspace copied as is to the image's
	// root, in a layer below the files' (ociimage.Builder.AddRoot): links,
	// empty and sticky directories kept. Empty: none.
	Root string
	// Dir is where in the image the files go ("/" by default), keeping
	// their paths below their common parent directory.
	Dir string
	// Entrypoint is the image's entrypoint.
	Entrypoint []string
	// Platform is "os/arch[/variant]", "linux/amd64" by default.
	Platform string
	// Layout is the OCI image layout directory to write, relative to the
	// workspace; "<output-dir>/image" by default.
	Layout string
}

// plan is Options checked and resolved.
type plan struct {
	Options
	outDir      string // slash-separated, relative to the workspace
	manifest    string // the same for each output
	subjects    string
	archive     string // "" when none
	layout      string // "" when no image
	imageDir    string // "" for the image root, else "opt/app"
	imageRoot   string // the root tree, relative to the workspace; "" for none
	artifacts   []fileset.Pattern
	imageFiles  []fileset.Pattern // nil: the artifacts
	epoch       int64
	epochForced bool
	tools       []toolchain.Declared
	// traceWarnings say what the trace could not read.
	traceWarnings []string
}

func newPlan(o Options) (*plan, error) {
	if !filepath.IsAbs(o.Workspace) {
		return nil, exitcode.Infraf("workspace %q is not absolute (internal error)", o.Workspace)
	}
	p := &plan{Options: o}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }

	if p.OutputDir == "" {
		p.OutputDir = DefaultOutputDir
	}
	var ok bool
	if p.outDir, ok = local(o.Workspace, p.OutputDir, "output-dir", bad); ok && p.outDir == "." {
		bad("output-dir %q must be a directory inside the workspace %q, such as \"dist\"", p.OutputDir, o.Workspace)
	}
	p.manifest = path.Join(p.outDir, ManifestFile)
	p.subjects = path.Join(p.outDir, SubjectsFile)
	if o.Archive != "" {
		switch {
		case strings.ContainsAny(o.Archive, `/\`) || o.Archive == "." || o.Archive == "..":
			bad("archive %q must be a file name (it is written in output-dir), such as \"app.tar.gz\"", o.Archive)
		case !strings.HasSuffix(o.Archive, ".tar.gz") && !strings.HasSuffix(o.Archive, ".tgz"):
			bad("archive %q must end in \".tar.gz\" or \".tgz\"; it is a gzip-compressed tar", o.Archive)
		case o.Archive == ManifestFile || o.Archive == SubjectsFile:
			bad("archive %q would overwrite the stage's own %s", o.Archive, o.Archive)
		default:
			p.archive = path.Join(p.outDir, o.Archive)
		}
	}
	var err error
	if p.artifacts, err = fileset.Parse(o.Workspace, o.Artifacts); err != nil {
		bad("artifacts: %v", err)
	}
	if err := execenv.CheckNames(o.PassEnv); err != nil {
		bad("pass-env: %v", err)
	}
	if o.SourceDateEpoch != "" {
		p.epoch, err = strconv.ParseInt(strings.TrimSpace(o.SourceDateEpoch), 10, 64)
		if err != nil || p.epoch < 0 {
			bad("source-date-epoch %q is not a number of seconds since 1970-01-01 UTC; use e.g. \"1700000000\" or leave it empty for the commit time", o.SourceDateEpoch)
		}
		p.epochForced = true
	}
	p.planTools(bad)
	if o.Image.Base != "" {
		p.planImage(bad)
	} else if len(o.Image.Files) > 0 || len(o.Image.Entrypoint) > 0 || o.Image.Layout != "" || o.Image.Root != "" {
		bad("image-files, image-root, image-entrypoint and image-layout need image-base; set image-base to \"scratch\" for an image with only your files")
	}
	if len(errs) > 0 {
		return nil, exitcode.BadInputf("%s", strings.Join(errs, "\n"))
	}
	return p, nil
}

// planTools finds the declared toolchains on the command's PATH and checks
// that the command can be traced, when it is to be: both before anything
// runs.
func (p *plan) planTools(bad func(string, ...any)) {
	if err := toolchain.CheckNames(p.Toolchains); err != nil {
		bad("toolchains: %v", err)
	} else if len(p.Toolchains) > 0 {
		getenv := p.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		var err error
		if p.tools, err = toolchain.Find(p.Toolchains, execenv.Environ(getenv, p.PassEnv, nil)); err != nil {
			bad("toolchains: %v", err)
		}
	}
	if p.Trace && p.Command != "" {
		if err := exectrace.Check(); err != nil {
			bad("trace: the build command cannot be traced here: %v; %s", err, traceHint)
		}
	}
}

// traceHint says what to do when ptrace is refused.
const traceHint = "tracing needs ptrace: a container must allow it (CAP_SYS_PTRACE, or a seccomp profile that permits ptrace) and kernel.yama.ptrace_scope must be 0 or 1; or set trace to false to build untraced (the provenance then lists only the declared toolchains)"

func (p *plan) planImage(bad func(string, ...any)) {
	o := p.Image
	layoutIn := o.Layout
	if layoutIn == "" {
		layoutIn = path.Join(p.outDir, DefaultImageDir)
	}
	var ok bool
	if p.layout, ok = local(p.Workspace, layoutIn, "image-layout", bad); ok && p.layout == "." {
		bad("image-layout %q must be a directory inside the workspace, such as \"dist/image\"", o.Layout)
	}
	if p.layout == p.outDir || p.layout == p.manifest || p.layout == p.subjects || p.layout == p.archive {
		bad("image-layout %q would overwrite another output of the stage; choose e.g. %q", o.Layout, path.Join(p.outDir, DefaultImageDir))
	}
	if o.Root != "" {
		var ok bool
		p.imageRoot, ok = local(p.Workspace, o.Root, "image-root", bad)
		switch {
		case !ok:
		case p.imageRoot == ".":
			bad("image-root %q must be a directory inside the workspace (not the workspace itself), such as \"image-root\"", o.Root)
		case within(p.imageRoot, p.outDir) || within(p.imageRoot, p.layout):
			bad("image-root %q contains output-dir %q or image-layout: the image would hold the stage's own outputs; choose a root tree outside them", o.Root, p.OutputDir)
		}
	}
	if len(o.Files) > 0 {
		var err error
		if p.imageFiles, err = fileset.Parse(p.Workspace, o.Files); err != nil {
			bad("image-files: %v", err)
		}
	}
	dir := path.Clean("/" + strings.TrimSpace(o.Dir))
	if o.Dir != "" && !strings.HasPrefix(strings.TrimSpace(o.Dir), "/") {
		bad("image-dir %q must be an absolute path in the image, such as \"/\" or \"/opt/app\"", o.Dir)
	}
	p.imageDir = strings.TrimPrefix(dir, "/")
	if _, err := ociimage.ParsePlatform(o.Platform); err != nil {
		bad("image-platform: %v", err)
	}
}

// local returns where p leads, relative to the workspace (slash-separated),
// following every symbolic link: a directory the stage writes must not lead
// out of the workspace (a link "dist -> /elsewhere" would otherwise receive
// the manifest). When it does, bad gets the reason naming input.
func local(workspace, p, input string, bad func(string, ...any)) (string, bool) {
	r, err := wsroot.New(workspace)
	var resolved string
	if err == nil {
		resolved, err = r.Resolve(p)
	}
	if err != nil {
		bad("%s %q must be a directory inside the workspace: %v", input, p, err)
		return "", false
	}
	rel, _ := r.Rel(resolved)
	return rel, true
}

// recheck resolves the output directories again once the build command has
// run: a command may have turned one into a link that leaves the workspace
// since the plan was made.
func (p *plan) recheck() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	check := func(rel, input string) {
		if got, ok := local(p.Workspace, rel, input, bad); ok && got != rel {
			bad("%s %q now leads to %q: the build command replaced it with a symbolic link; write outputs elsewhere, or remove the link", input, rel, got)
		}
	}
	check(p.outDir, "output-dir")
	if p.layout != "" {
		check(p.layout, "image-layout")
	}
	if len(errs) > 0 {
		return exitcode.BadInputf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// reserved returns the paths the stage writes, never matched as artifacts,
// and the patterns of the temporary files it may leave while writing them.
func (p *plan) reserved() ([]string, []fileset.Pattern) {
	paths := []string{p.manifest, p.subjects}
	dirs := []string{p.outDir}
	if p.archive != "" {
		paths = append(paths, p.archive)
	}
	if p.layout != "" {
		paths = append(paths, p.layout)
		dirs = append(dirs, path.Dir(p.layout))
	}
	var temps []fileset.Pattern
	for _, d := range dirs {
		g := fileset.EscapeMeta(d) + "/.*.tmp-*"
		if d == "." {
			g = ".*.tmp-*"
		}
		temps = append(temps, fileset.Pattern{Glob: g, Exclude: true, Source: "(temporary files)"})
	}
	return paths, temps
}

// within reports whether the relative path p is dir or below it.
func within(dir, p string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}
