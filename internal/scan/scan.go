package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/anchore/grype/grype"
	"github.com/anchore/grype/grype/match"
	"github.com/anchore/grype/grype/matcher"
	"github.com/anchore/grype/grype/pkg"
	"golang.org/x/sync/errgroup"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/workspace"
)

// MaxSBOMSize is the largest SBOM read; a document is decoded in memory.
const MaxSBOMSize = 512 << 20

// Options configures one scan.
type Options struct {
	// Dir is the workspace; the manifest's paths are relative to it.
	Dir string
	// Manifest is the artifact manifest whose SBOM records are scanned.
	Manifest string
	// DB is the open vulnerability database.
	DB *DB
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// Package is a package a finding is about.
type Package struct {
	Name, Version, Type string
	// PURL is the package URL the SBOM gave it (or grype derived).
	PURL string
}

// ID is the package's identity in the statement: its purl, or name@version
// for a package without one.
func (p Package) ID() string {
	if p.PURL != "" {
		return p.PURL
	}
	return p.Name + "@" + p.Version
}

// Finding is one vulnerability in one package, merged over every SBOM that
// lists the package.
type Finding struct {
	ID string
	// Severity is the data source's rating, lower-cased; Unknown when it
	// gave none.
	Severity string
	// Namespace is grype's name of the data source, e.g.
	// "debian:distro:debian:12" or "github:language:go".
	Namespace string
	Package   Package
	// FixedIn are the versions that fix it; empty when no fix is known.
	FixedIn []string
	// FixState is grype's fix state: fixed, not-fixed, wont-fix, unknown.
	FixState string
	// CVSS is the highest CVSS base score the data gives, 0 without any.
	CVSS        float64
	Description string
	// URL is the data source's page about it.
	URL string
	// SBOMs are the SBOM files (workspace-relative) that list the package,
	// Subjects the artifacts those SBOMs describe.
	SBOMs    []string
	Subjects []string
}

// SBOM is one scanned document.
type SBOM struct {
	Path     string // workspace-relative, as the manifest records it
	Subject  string // the artifact it describes (its name), or its digest
	Packages int
	Matches  int
}

// Result is what a scan found.
type Result struct {
	// Subjects are the manifest's artifacts: the statement's subjects.
	Subjects []artifact.Subject
	SBOMs    []SBOM
	// Findings are sorted by severity (highest first), then id, then
	// package.
	Findings          []Finding
	DB                DBInfo
	Started, Finished time.Time
}

// MaxSeverity is the highest severity among the findings (none without any;
// an unknown severity counts as high).
func (r *Result) MaxSeverity() string { return maxSeverity(r.Findings) }

// Counts is the number of findings of each severity (Unknown included).
func (r *Result) Counts() map[string]int {
	c := map[string]int{}
	for _, f := range r.Findings {
		c[f.Severity]++
	}
	return c
}

// Run scans every SBOM the manifest records against o.DB.
func Run(ctx context.Context, o Options) (*Result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.DB == nil {
		return nil, errors.New("scan: no database")
	}
	mpath, err := workspace.Resolve(o.Dir, o.Manifest)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("manifest %q: %w", o.Manifest, err)), o.Manifest)
	}
	m, err := artifact.ReadManifest(mpath)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q: %w; give the manifest.json that \"slipway build\" wrote", o.Manifest, err), o.Manifest)
	}
	res := &Result{Subjects: m.Subjects(), DB: o.DB.Info, Started: now().UTC()}
	if len(res.Subjects) == 0 {
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q records no artifact to scan; run \"slipway build\" first", o.Manifest), o.Manifest)
	}
	records := m.ByRole(artifact.RoleSBOM)
	if len(records) == 0 {
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q records no SBOM; run \"slipway sbom --manifest %s\" before scanning", o.Manifest, o.Manifest), o.Manifest)
	}
	names := map[digest.SHA256]string{}
	for _, s := range res.Subjects {
		names[s.Digest] = s.Name
	}
	byKey := map[string]*Finding{}
	for _, rec := range records {
		subject := names[rec.Describes]
		if subject == "" {
			subject = rec.Describes.String()
		}
		doc, err := readSBOM(o.Dir, rec)
		if err != nil {
			return nil, err
		}
		pkgs, pctx, _, err := pkg.ProvideFromReader(bytes.NewReader(doc), pkg.ProviderConfig{})
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInputf("SBOM %q: %v; give a CycloneDX or SPDX JSON document as \"slipway sbom\" writes it", rec.Path, err), rec.Path)
		}
		sorted, err := o.DB.match(ctx, pkgs, pctx)
		if err != nil {
			return nil, fmt.Errorf("matching SBOM %q: %w", rec.Path, err)
		}
		res.SBOMs = append(res.SBOMs, SBOM{Path: rec.Path, Subject: subject, Packages: len(pkgs), Matches: len(sorted)})
		log.Info("scanned", "sbom", rec.Path, "packages", len(pkgs), "matches", len(sorted))
		for _, mt := range sorted {
			f, err := o.DB.finding(mt)
			if err != nil {
				return nil, fmt.Errorf("reading the record of %s: %w", mt.Vulnerability.ID, err)
			}
			key := f.ID + "\x00" + f.Package.ID()
			if old, ok := byKey[key]; ok {
				f = *old
			}
			f.SBOMs = appendNew(f.SBOMs, rec.Path)
			f.Subjects = appendNew(f.Subjects, subject)
			byKey[key] = &f
		}
	}
	for _, f := range byKey {
		res.Findings = append(res.Findings, *f)
	}
	slices.SortFunc(res.Findings, func(a, b Finding) int {
		if d := Rank(b.Severity) - Rank(a.Severity); d != 0 {
			return d
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Package.ID(), b.Package.ID())
	})
	res.Finished = now().UTC()
	return res, nil
}

// match finds the vulnerabilities of pkgs. grype's matcher looks packages
// up one after another; the packages are split into one contiguous share
// per CPU (at most maxMatchWorkers), each matched by its own matcher over
// the one database (grype's reader is safe for concurrent queries: each
// takes its own SQLite connection), and the matches are merged in package
// order. Each share goes to grype without the packages the name shortcut
// shows it would find nothing for (knownNames.needsGrype).
func (d *DB) match(ctx context.Context, pkgs []pkg.Package, pctx pkg.Context) ([]match.Match, error) {
	workers := min(runtime.GOMAXPROCS(0), maxMatchWorkers, max(1, len(pkgs)/minMatchShare))
	shares := make([][]match.Match, workers)
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		part := pkgs[w*len(pkgs)/workers : (w+1)*len(pkgs)/workers]
		g.Go(func() error {
			// Zero configs: purl and version matching only; no CPE
			// guessing, no Maven Central lookups.
			matchers := matcher.NewDefaultMatchers(matcher.Config{})
			if k, ok := d.provider.(*knownNames); ok {
				part = k.needsGrype(matchers, part)
			}
			vm := grype.VulnerabilityMatcher{VulnerabilityProvider: d.provider, Matchers: matchers}
			found, _, err := vm.FindMatchesContext(ctx, part, pctx)
			if err != nil {
				return err
			}
			shares[w] = found.Sorted()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(shares...), nil
}

// Matching is split over at most maxMatchWorkers goroutines, each with at
// least minMatchShare packages (fewer are not worth a goroutine).
const (
	maxMatchWorkers = 8
	minMatchShare   = 64
)

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(slices.Clip(list), s)
}

// finding describes one grype match.
func (d *DB) finding(mt match.Match) (Finding, error) {
	v := mt.Vulnerability
	meta := v.Metadata
	if meta == nil {
		var err error
		if meta, err = d.provider.VulnerabilityMetadata(v.Reference); err != nil {
			return Finding{}, err
		}
	}
	f := Finding{
		ID:        v.ID,
		Severity:  Unknown,
		Namespace: v.Namespace,
		Package: Package{Name: mt.Package.Name, Version: mt.Package.Version,
			Type: string(mt.Package.Type), PURL: mt.Package.PURL},
		FixedIn:  slices.Clone(v.Fix.Versions),
		FixState: string(v.Fix.State),
	}
	if meta != nil {
		f.Severity = normalize(meta.Severity)
		f.Description = meta.Description
		f.URL = meta.DataSource
		if f.URL == "" && len(meta.URLs) > 0 {
			f.URL = meta.URLs[0]
		}
		for _, c := range meta.Cvss {
			f.CVSS = max(f.CVSS, c.Metrics.BaseScore)
		}
	}
	return f, nil
}

// readSBOM reads the SBOM rec records, inside the workspace, checking its
// size and SHA-256 against the record.
func readSBOM(dir string, rec artifact.Record) ([]byte, error) {
	p, err := workspace.Resolve(dir, filepath.FromSlash(rec.Path))
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("SBOM %q: %w", rec.Path, err)), rec.Path)
	}
	f, err := regfile.Open(p)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInputf("SBOM %q: %v; run \"slipway sbom\" again, or remove its record from the manifest", rec.Path, err), rec.Path)
	}
	defer f.Close()
	if rec.Size > MaxSBOMSize {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("SBOM %q: %w", rec.Path, &regfile.TooLargeError{Path: rec.Path, Limit: MaxSBOMSize})), rec.Path)
	}
	h := digest.New()
	buf := bytes.NewBuffer(make([]byte, 0, rec.Size+1))
	n, err := io.Copy(io.MultiWriter(buf, h), io.LimitReader(f, MaxSBOMSize+1))
	if err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading SBOM %q: %w", rec.Path, err)), rec.Path)
	}
	got := h.Digest()
	if n != rec.Size || got != rec.Digest {
		return nil, exitcode.WithFile(exitcode.Failuref("SBOM %q does not match its manifest record: %d bytes, %s; the record says %d bytes, %s; it changed after \"slipway sbom\" wrote it: make it again", rec.Path, n, got, rec.Size, rec.Digest), rec.Path)
	}
	return buf.Bytes(), nil
}
