package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/slipway/actions/internal/archive"
	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/fileset"
	"github.com/slipway/actions/internal/gitinfo"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/ociimage"
	"github.com/slipway/actions/internal/toolchain"
)

// Result is what a build wrote. Paths are slash-separated and relative to
// the workspace.
type Result struct {
	Manifest     *artifact.Manifest
	ManifestPath string
	SubjectsPath string
	// Base64Subjects is the subjects file, base64-encoded (the input of
	// slsa-github-generator's generic generator).
	Base64Subjects string
	// Archive and Image are the records of the archive and the image, when
	// made.
	Archive *artifact.Record
	Image   *artifact.Record
	// Warnings are things the user should look at (a dirty tree, no git).
	Warnings []string
}

// Run runs the build described by o. Errors carry exit codes (package
// exitcode): 1 when the command fails, 2 for bad input (globs, paths, a
// link leaving the workspace), 3 for the rest.
func Run(ctx context.Context, o Options) (*Result, error) {
	p, err := newPlan(o)
	if err != nil {
		return nil, err
	}
	p.defaults()
	res := &Result{ManifestPath: p.manifest, SubjectsPath: p.subjects}
	info, err := p.source(ctx, res)
	if err != nil {
		return nil, err
	}
	var base *ociimage.Base
	if p.layout != "" {
		// Resolve the base first: a wrong reference fails before a long build.
		if base, err = ociimage.ResolveBase(ctx, ociimage.BaseOptions{
			Ref: p.Image.Base, Dir: p.Workspace, Platform: p.Image.Platform, Transport: p.Transport,
		}); err != nil {
			return nil, err
		}
		p.Log.Info("image base", "base", base.Name, "platform", base.Platform.String())
	}
	env, err := p.command(ctx, info)
	if err != nil {
		return nil, err
	}
	if err := p.recheck(); err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, p.traceWarnings...)
	// Ask the toolchains for their versions while the artifacts are read:
	// the probes are other processes and the pass is bound by SHA-256.
	tools := p.describeTools(ctx, env)
	defer tools.stop()

	root, err := os.OpenRoot(p.Workspace)
	if err != nil {
		return nil, exitcode.Infraf("opening the workspace %q: %w", p.Workspace, err)
	}
	defer root.Close()
	list, err := p.files(ctx)
	if err != nil {
		return nil, err
	}
	var undo undo
	defer undo.run() // a failure removes what this run wrote
	m := artifact.NewManifest()
	m.Build = info
	records, err := p.write(ctx, root, list, base, res, &undo)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		m.Add(r)
	}
	described := tools.wait()
	if described.err != nil {
		return nil, exitcode.Infraf("describing the toolchains: %w", described.err)
	}
	info.Toolchains = described.tools
	res.Warnings = append(res.Warnings, described.warnings...)
	res.Warnings = append(res.Warnings, unused(info)...)
	if err := p.writeOutputs(m, res, &undo); err != nil {
		return nil, err
	}
	undo.cancel()
	res.Manifest = m
	return res, nil
}

// Check checks the options and what they need from this machine (the
// declared toolchains on the command's PATH, ptrace for Trace) without
// running anything: the errors Run gives before its command starts,
// except a base image's, which takes the network.
func Check(o Options) error {
	_, err := newPlan(o)
	return err
}

func (p *plan) defaults() {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Getenv == nil {
		p.Getenv = func(string) string { return "" }
	}
	if p.Output == nil {
		p.Output = io.Discard
	}
	if p.Group == nil {
		p.Group = func(string) func() { return func() {} }
	}
}

// source reads the git state and settles SOURCE_DATE_EPOCH.
func (p *plan) source(ctx context.Context, res *Result) (*artifact.BuildInfo, error) {
	env := execenv.Environ(p.Getenv, nil, nil)
	git := p.Git
	if git == nil {
		git = gitinfo.New(env)
	}
	// The stage's own outputs do not make the tree dirty.
	ignore := []string{p.outDir}
	if p.layout != "" {
		ignore = append(ignore, p.layout)
	}
	g, err := git.Read(ctx, p.Workspace, ignore...)
	switch {
	case errors.Is(err, gitinfo.ErrNotRepository):
		if !p.epochForced {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the workspace %q is not a git work tree with a commit: no commit is recorded and SOURCE_DATE_EPOCH is %d; set source-date-epoch or build from a checkout", p.Workspace, p.epoch))
		}
	case err != nil:
		return nil, exitcode.Infraf("reading the git state of the workspace: %w", err)
	default:
		if !p.epochForced {
			p.epoch = g.CommitTime.Unix()
		}
		if g.Dirty {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the work tree has changes not in commit %s: the artifacts may not match the recorded commit", g.Commit))
		}
	}
	info := &artifact.BuildInfo{
		Command: p.Command, Commit: g.Commit, Dirty: g.Dirty, Ref: g.Ref,
		Repository: repository(p.Getenv, g.Remote), SourceDateEpoch: p.epoch,
	}
	if ref := p.Getenv("GITHUB_REF"); ref != "" {
		info.Ref = ref
	}
	return info, nil
}

// repository is the source repository URI: GitHub's when running there,
// else the origin remote.
func repository(getenv func(string) string, remote string) string {
	if server, repo := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"); server != "" && repo != "" {
		return "git+" + strings.TrimSuffix(server, "/") + "/" + repo
	}
	if strings.Contains(remote, "://") {
		return "git+" + remote
	}
	return remote
}

// command runs the build command (if any) and returns its environment.
func (p *plan) command(ctx context.Context, info *artifact.BuildInfo) ([]string, error) {
	tmp, err := newTempDir()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := execenv.RemoveAll(tmp); err != nil {
			p.Log.Warn("removing the build's TMPDIR", "dir", tmp, "error", err)
		}
	}()
	env := p.commandEnv(tmp)
	info.StartedOn = p.Now().UTC()
	if p.Command != "" {
		end := p.Group("Build command")
		err = p.runCommand(ctx, env, p.Output, info)
		end()
	}
	info.FinishedOn = p.Now().UTC()
	if err != nil {
		return nil, err
	}
	return env, nil
}

// toolProbe is the description of the declared toolchains, running in the
// background.
type toolProbe struct {
	cancel context.CancelFunc
	done   chan described
}

type described struct {
	tools    []artifact.Tool
	warnings []string
	err      error
}

// describeTools starts describing the declared toolchains, in the
// command's environment (without its TMPDIR, which is gone by now).
func (p *plan) describeTools(ctx context.Context, env []string) *toolProbe {
	ctx, cancel := context.WithCancel(ctx)
	t := &toolProbe{cancel: cancel, done: make(chan described, 1)}
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "TMPDIR=") })
	go func() {
		var d described
		if len(p.tools) > 0 {
			d.tools, d.warnings, d.err = toolchain.Describe(ctx, p.tools, toolchain.Options{Dir: p.Workspace, Env: env})
		}
		t.done <- d
	}()
	return t
}

// wait returns the description.
func (t *toolProbe) wait() described {
	d := <-t.done
	t.done <- d // stop must not block
	return d
}

// stop cancels the probes and waits for them, so that none outlives Run.
func (t *toolProbe) stop() {
	t.cancel()
	t.wait()
}

// unused warns about declared toolchains a traced command never ran.
func unused(info *artifact.BuildInfo) []string {
	if !info.Traced || info.Command == "" {
		return nil
	}
	ran := map[string]bool{}
	for _, e := range info.Executed {
		ran[e.Path] = true
	}
	var out []string
	for _, t := range info.Toolchains {
		if t.Executable != nil && !ran[t.Executable.Path] {
			out = append(out, fmt.Sprintf("toolchain %q (%s) is declared, but the trace shows that the build command never ran it; remove it from toolchains if the build does not use it", t.Name, t.Executable.Path))
		}
	}
	return out
}

// files resolves the artifacts and image files.
func (p *plan) files(ctx context.Context) ([]item, error) {
	paths, temps := p.reserved()
	opts := fileset.Options{Exclude: paths}
	artifacts, err := fileset.Resolve(ctx, p.Workspace, append(p.artifacts, temps...), opts)
	if err != nil {
		return nil, filesetError("artifacts", err)
	}
	var image []fileset.File
	if p.imageFiles != nil {
		if image, err = fileset.Resolve(ctx, p.Workspace, append(p.imageFiles, temps...), opts); err != nil {
			return nil, filesetError("image-files", err)
		}
	}
	p.Log.Info("artifacts found", "count", len(artifacts))
	return items(artifacts, image, p.archive != "", p.imageDir, p.layout != "" && p.imageFiles == nil), nil
}

func filesetError(input string, err error) error {
	if errors.Is(err, fileset.ErrInput) {
		return exitcode.BadInputf("%s: %w", input, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return exitcode.Infraf("%s: %w", input, err)
}

// write makes the one pass over the files, inside the archive's atomic
// write when there is an archive, and commits the image.
func (p *plan) write(ctx context.Context, root *os.Root, list []item, base *ociimage.Base, res *Result, u *undo) ([]artifact.Record, error) {
	mtime := time.Unix(p.epoch, 0)
	var img *ociimage.Builder
	if p.layout != "" {
		var err error
		img, err = ociimage.NewBuilder(p.abs(p.layout), base, ociimage.Options{Entrypoint: p.Image.Entrypoint, Created: mtime})
		if err != nil {
			return nil, exitcode.Infra(err)
		}
		defer img.Abort()
		if p.imageRoot != "" {
			if err := img.AddRoot(ctx, p.abs(p.imageRoot)); err != nil {
				return nil, fmt.Errorf("image-root %q: %w", p.imageRoot, err)
			}
		}
	}
	r := newReader(root)
	var records []artifact.Record
	pass := func(tw *archive.Tar) error {
		s := sinks{tar: tw}
		if img != nil {
			s.image = img.Layer()
		}
		var err error
		records, err = r.pass(ctx, list, s)
		return err
	}
	if p.archive == "" {
		if err := pass(nil); err != nil {
			return nil, err
		}
	} else {
		rec, err := p.writeArchive(mtime, pass)
		if err != nil {
			return nil, err
		}
		u.add(p.abs(p.archive))
		res.Archive = &rec
	}
	if img != nil {
		out, err := img.Commit()
		if err != nil {
			return nil, exitcode.Infraf("writing the image: %w", err)
		}
		u.add(out.Layout)
		rel, _ := filepath.Rel(p.Workspace, out.ManifestPath)
		rel = filepath.ToSlash(rel)
		rec := artifact.Record{
			Name: p.layout, Path: rel, Digest: out.Digest, Size: out.Size,
			MediaType: mediatype.OCIManifest, Role: artifact.RoleArtifact,
		}
		res.Image = &rec
	}
	for _, r := range []*artifact.Record{res.Archive, res.Image} {
		if r != nil {
			records = append(records, *r)
		}
	}
	return records, nil
}

// writeArchive writes the archive atomically while pass feeds it, hashing
// the compressed stream as it is written.
func (p *plan) writeArchive(mtime time.Time, pass func(*archive.Tar) error) (artifact.Record, error) {
	sum := digest.New()
	err := atomicfile.Write(p.abs(p.archive), 0o644, func(w io.Writer) error {
		buf := bufio.NewWriterSize(io.MultiWriter(w, sum), digest.BufferSize)
		gz := archive.NewGzip(buf)
		tw := archive.NewTar(gz, mtime)
		if err := pass(tw); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return exitcode.Infraf("writing the archive: %w", err)
		}
		if err := gz.Close(); err != nil {
			return exitcode.Infraf("writing the archive: %w", err)
		}
		if err := buf.Flush(); err != nil {
			return exitcode.Infraf("writing the archive: %w", err)
		}
		return nil
	})
	if err != nil {
		if !errors.As(err, new(*exitcode.Error)) {
			err = exitcode.Infraf("writing the archive %q: %w", p.archive, err)
		}
		return artifact.Record{}, err
	}
	return artifact.Record{
		Name: p.archive, Path: p.archive, Digest: sum.Digest(), Size: sum.Size(),
		MediaType: mediatype.Gzip, Role: artifact.RoleArtifact,
	}, nil
}

// writeOutputs writes the subjects file, then the manifest.
func (p *plan) writeOutputs(m *artifact.Manifest, res *Result, u *undo) error {
	subjects := m.Subjects()
	err := atomicfile.Write(p.abs(p.subjects), 0o644, func(w io.Writer) error {
		return artifact.WriteSubjects(w, subjects)
	})
	if err != nil {
		return exitcode.Infraf("writing %q: %w", p.subjects, err)
	}
	u.add(p.abs(p.subjects))
	if err := m.WriteFile(p.abs(p.manifest)); err != nil {
		return exitcode.Infraf("writing %q: %w", p.manifest, err)
	}
	res.Base64Subjects = artifact.Base64Subjects(subjects)
	return nil
}

func (p *plan) abs(rel string) string {
	return filepath.Join(p.Workspace, filepath.FromSlash(rel))
}

// undo removes the outputs of a failed run.
type undo struct{ paths []string }

func (u *undo) add(p string) { u.paths = append(u.paths, p) }
func (u *undo) cancel()      { u.paths = nil }
func (u *undo) run() {
	for _, p := range u.paths {
		_ = os.RemoveAll(p)
	}
}
