package sbom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/anchore/stereoscope"
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/source"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// Options configures Generate.
type Options struct {
	// Subject is the "subject" input (see ParseSubject).
	Subject string
	// Format is the "format" input (see ParseFormat); empty means
	// DefaultFormat.
	Format string
	// Output is where the document goes; empty means DefaultOutput.
	Output string
	// Manifest, when set, is an artifact manifest (the build stage's
	// manifest.json) that gets an sbom record for the document.
	Manifest string
	// Dir is the workspace: relative paths are relative to it.
	Dir string
	// Created is the document's creation time; zero means now. Pass the
	// SOURCE_DATE_EPOCH time for reproducible documents.
	Created time.Time
	// Log receives progress at debug level and warnings; nil discards.
	Log *slog.Logger
	// Transport reaches a registry subject first, to fail on a silent
	// registry with its limit named (syft's reader sets no timeouts);
	// nil skips that check.
	Transport http.RoundTripper
}

// Result is what Generate made.
type Result struct {
	// Subject is the resolved subject.
	Subject Subject
	// SubjectName names the subject in the document and the summary.
	SubjectName string
	// SubjectDigest is the digest the document is bound to.
	SubjectDigest digest.SHA256
	// SubjectFiles is the number of files a directory subject's digest
	// covers (zero for other subjects).
	SubjectFiles int
	Format       Format
	// Output is the document's path as given or defaulted; OutputPath is
	// the same path made absolute.
	Output     string
	OutputPath string
	// Digest and Size are the document's, computed while writing it.
	Digest digest.SHA256
	Size   int64
	// RecordedDigest is true when the file's digest was taken from the
	// manifest (size-checked) instead of being computed.
	RecordedDigest bool
	// Native lists the shared libraries an ELF file subject needs; nil
	// for other subjects and statically linked files.
	Native *Native
	// Packages is the number of packages syft found.
	Packages int
	// ManifestUpdated is true when an sbom record was added to
	// Options.Manifest.
	ManifestUpdated bool
}

// Generate catalogs the subject with syft and writes its SBOM atomically.
// Errors carry exit codes (package exitcode): bad input is 2, a registry or
// disk failure 3.
func Generate(ctx context.Context, o Options) (*Result, error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := ParseFormat(o.Format)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	parsed, err := ParseSubject(o.Subject)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	subj, err := Resolve(parsed, o.Dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Subject: subj, Format: f, SubjectName: subjectName(subj, o.Dir)}
	if res.Output, err = outputPath(o.Output, subj, f, o.Dir); err != nil {
		return nil, err
	}
	res.OutputPath = absPath(res.Output, o.Dir)
	if (subj.Kind == KindFile || subj.Kind == KindDir) && res.OutputPath == subj.Path {
		return nil, exitcode.BadInputf("output %q is the subject itself; write the SBOM somewhere else", res.Output)
	}
	if fi, err := os.Stat(res.OutputPath); err == nil && fi.IsDir() {
		return nil, exitcode.BadInputf("output %q is a directory; give a file name such as %s", res.Output, filepath.Join(res.Output, "sbom"+f.Extension()))
	}
	m, err := loadManifest(o.Manifest, o.Dir)
	if err != nil {
		return nil, err
	}
	created := o.Created
	if created.IsZero() {
		created = time.Now()
	}

	// A directory's digest is computed while syft catalogs it.
	treeCtx, cancelTree := context.WithCancel(ctx)
	defer cancelTree()
	var tree chan treeResult
	if subj.Kind == KindDir {
		tree = make(chan treeResult, 1)
		go func() {
			d, n, err := TreeDigest(treeCtx, subj.Path)
			tree <- treeResult{d, n, err}
		}()
	}

	log.Debug("cataloging", "subject", subj.String(), "kind", subj.Kind.String())
	var alias source.Alias
	if !subj.IsImage() {
		alias.Name = res.SubjectName
	}
	var src source.Source
	rec, err := openRecorded(ctx, subj, alias, m)
	switch {
	case err != nil:
		return nil, err
	case rec != nil:
		log.Debug("using the digest the manifest records", "subject", subj.String(), "digest", rec.digest.String())
		src, res.RecordedDigest = rec, true
	default:
		if subj.Kind == KindRegistry && o.Transport != nil {
			if err := checkRegistry(ctx, subj.Ref, o.Transport); err != nil {
				return nil, err
			}
		}
		if src, err = openSource(ctx, subj, alias); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err := src.Close(); err != nil {
			log.Warn("cleaning up after syft", "subject", subj.String(), "error", err)
		}
	}()
	s, err := syft.CreateSBOM(withLicenseScanner(ctx), src, createConfig())
	if err != nil {
		if ctx.Err() != nil {
			return nil, exitcode.Infra(fmt.Errorf("cataloging %q: %w", subj.String(), ctx.Err()))
		}
		return nil, exitcode.WithFile(exitcode.BadInputf("syft could not catalog subject %q: %w", subj.String(), err), subj.Path)
	}
	if subj.Kind == KindFile {
		if res.Native, err = addNative(ctx, s, subj.Path, hostRoot, log); err != nil {
			return nil, exitcode.Infra(fmt.Errorf("listing the shared libraries of subject %q: %w", subj.String(), err))
		}
	}
	res.Packages = s.Artifacts.Packages.PackageCount()

	switch subj.Kind {
	case KindDir:
		t := <-tree
		if t.err != nil {
			return nil, exitcode.WithFile(exitcode.BadInputf("digesting subject %q: %w; make every file in it readable", subj.Path, t.err), subj.Path)
		}
		res.SubjectDigest, res.SubjectFiles = t.digest, t.files
	case KindFile:
		res.SubjectDigest, err = parseDigest(fileSHA256(s.Source))
	default:
		res.SubjectDigest, err = parseDigest(imageManifestDigest(s.Source))
	}
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("finding the digest of subject %q: %w (internal error)", subj.String(), err))
	}

	b := binding{subject: res.SubjectDigest, created: created, name: res.SubjectName}
	if res.Native != nil {
		b.needs = res.Native.direct
	}
	err = atomicfile.Write(res.OutputPath, 0o644, func(w io.Writer) error {
		sum := digest.New()
		if err := encode(io.MultiWriter(w, sum), s, f, b); err != nil {
			return err
		}
		res.Digest, res.Size = sum.Digest(), sum.Size()
		return nil
	})
	if err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing SBOM %q: %w", res.Output, err)), res.Output)
	}
	log.Debug("wrote SBOM", "output", res.Output, "digest", res.Digest.String(), "packages", res.Packages)

	if m != nil {
		if err := m.add(res, log); err != nil {
			return res, err
		}
		res.ManifestUpdated = true
	}
	return res, nil
}

// hostRoot is the root of the file system whose dynamic loader
// configuration and package databases describe an ELF subject's libraries.
const hostRoot = "/"

// Cleanup removes the temporary directories that syft's image reader
// (stereoscope) keeps for the life of the process. Call it when no Generate
// is running, such as when a command ends, as the syft CLI does on exit.
func Cleanup() { stereoscope.Cleanup() }

type treeResult struct {
	digest digest.SHA256
	files  int
	err    error
}

func parseDigest(s string, err error) (digest.SHA256, error) {
	if err != nil {
		return digest.SHA256{}, err
	}
	if d, err := digest.Parse(s); err == nil {
		return d, nil
	}
	d, err := digest.ParseHex(s)
	if err != nil {
		return digest.SHA256{}, errors.Join(errNoDigest, err)
	}
	return d, nil
}

func absPath(p, dir string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p)
}

// workspaceName is path as a slash-separated path relative to the
// workspace, or absolute when it lies outside.
func workspaceName(path, dir string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

// subjectName is how the document and the summary name the subject: the
// workspace-relative path of a file or directory (as the build manifest
// names artifacts), the reference of a registry image, "oci-layout:PATH" for
// a layout.
func subjectName(s Subject, dir string) string {
	switch s.Kind {
	case KindRegistry:
		return s.Ref
	case KindOCILayout:
		return SchemeOCILayout + workspaceName(s.Path, dir)
	}
	return workspaceName(s.Path, dir)
}
