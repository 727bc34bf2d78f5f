package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/scan"
	"github.com/slipway/actions/internal/signing"
)

// scanCommand is the scan stage: options → scan.OpenDB and scan.Run → the
// vulns statement signed through attest.Predicate, the SARIF file →
// outputs and summary. It reports findings; refusing them is the trust
// policy's job (docs/policy.md), so any number of findings exits 0.
type scanCommand struct {
	net                                   netFlags
	manifest, db, dbMaxAge, sarif, bundle string
	sigstore                              signing.Config
}

func (c *scanCommand) Name() string { return "scan" }
func (c *scanCommand) Short() string {
	return "Match every SBOM of a build manifest against a local, mirrored grype vulnerability database (offline), and sign the findings as an in-toto vulns statement about the manifest's artifacts; write SARIF for GitHub code scanning."
}

func (c *scanCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *scanCommand) stageInputs() []input.Input {
	ins := []input.Input{
		input.String(&c.manifest, input.Spec{Name: "manifest", Required: true,
			Description: "The build manifest: every SBOM it records (slipway sbom --manifest) is scanned, its artifacts are the statement's subjects, and the attestation is recorded in it."}),
		input.String(&c.db, input.Spec{Name: "db", Required: true, Env: "GRYPE_DB_CACHE_DIR",
			Description: "The vulnerability database: a directory holding grype's schema v6 vulnerability.db and import.json (as grype db import leaves it), or grype's cache directory; it is only read, never downloaded or updated (see docs/scan.md for mirroring it)."}),
		input.String(&c.dbMaxAge, input.Spec{Name: "db-max-age", Default: "5d",
			Description: "The oldest database accepted, by its build time: a number of days (5d) or a Go duration (120h)."}),
		input.String(&c.sarif, input.Spec{Name: "sarif",
			Description: "Where to write the SARIF log for github/codeql-action/upload-sarif; by default MANIFEST-DIR/MANIFEST-BASE.vulns.sarif (dist/manifest.vulns.sarif)."}),
		input.String(&c.bundle, input.Spec{Name: "bundle",
			Description: "Where to write the attestation bundle; by default MANIFEST-DIR/MANIFEST-BASE.vulns.sigstore.json (dist/manifest.vulns.sigstore.json)."}),
	}
	return append(ins, signerInputs(&c.sigstore)...)
}

func (c *scanCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "findings", Description: "The number of findings (a vulnerability in a package; one however many SBOMs list the package)."},
		{Name: "max-severity", Description: "The highest severity found: none, negligible, low, medium, high or critical (an unrated finding counts as high)."},
		{Name: "attestation", Description: "Path of the signed vulns attestation bundle (recorded in the manifest)."},
		{Name: "sarif", Description: "Path of the SARIF log."},
	}
}

func (c *scanCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("manifest", c.manifest, "sarif", c.sarif, "bundle", c.bundle); err != nil {
		return err
	}
	maxAge, err := policy.ParseAge(c.dbMaxAge)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"db-max-age\": %w", err))
	}
	if err := checkSigstoreKey(c.sigstore); err != nil {
		return err
	}
	sarifPath := c.sarif
	if sarifPath == "" {
		sarifPath = strings.TrimSuffix(attest.PredicateBundle(c.manifest, "vulns"), ".sigstore.json") + ".sarif"
	}
	maskKeyEnv(rt, c.sigstore)
	env := signingEnv(rt)
	// The key is decrypted (or the certificate fetched) while the scan runs.
	signer := signing.Start(ctx, c.sigstore.Options(env, c.sigstore.Tokens(env)), nil)

	var res *scan.Result
	err = rt.Group("slipway scan: "+c.manifest+" against "+c.db, func() error {
		db, err := scan.OpenDB(scan.DBOptions{Path: rt.path(c.db), MaxAge: maxAge, Now: rt.Now})
		if err != nil {
			return err
		}
		defer db.Close()
		res, err = scan.Run(ctx, scan.Options{Dir: rt.Dir, Manifest: c.manifest, DB: db, Now: rt.Now, Log: rt.Log})
		return err
	})
	if err != nil {
		return err
	}
	if err := atomicfile.Write(rt.path(sarifPath), 0o644, func(w io.Writer) error { return res.WriteSARIF(w) }); err != nil {
		return exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing SARIF %q: %w", sarifPath, err)), sarifPath)
	}
	pred, err := res.Predicate()
	if err != nil {
		return exitcode.Infra(fmt.Errorf("encoding the vulns predicate: %w", err))
	}
	var att *attest.PredicateResult
	err = rt.Group("slipway scan: signing the vulns statement", func() error {
		att, err = attest.Predicate(ctx, attest.PredicateOptions{Dir: rt.Dir, Manifest: c.manifest,
			PredicateType: scan.PredicateType, Predicate: pred, Name: "vulns", Bundle: c.bundle, Signer: signer, Log: rt.Log})
		return err
	})
	if err != nil {
		return err
	}
	for _, o := range [][2]string{
		{"findings", strconv.Itoa(len(res.Findings))},
		{"max-severity", res.MaxSeverity()},
		{"attestation", att.BundlePath},
		{"sarif", sarifPath},
	} {
		if err := rt.Output(o[0], o[1]); err != nil {
			return err
		}
	}
	return rt.Report.Summary(scanSummary(res, att, sarifPath, rt.Now()))
}

// maxSummaryFindings bounds the findings listed in the step summary; the
// SARIF log and the statement list them all.
const maxSummaryFindings = 50

// scanSummary is a table of findings by severity (with the first ids of
// each), the findings themselves (highest first), the database and what was
// written.
func scanSummary(res *scan.Result, att *attest.PredicateResult, sarifPath string, now time.Time) action.Summary {
	s := action.Summary{Title: "Vulnerabilities"}
	counts := res.Counts()
	ids := map[string][]string{}
	for _, f := range res.Findings {
		if len(ids[f.Severity]) < 5 {
			ids[f.Severity] = append(ids[f.Severity], f.ID)
		}
	}
	t := &action.Table{Title: "Findings by severity", Header: []string{"Severity", "Findings", "First ids"}}
	for _, sev := range []string{scan.Critical, scan.High, scan.Unknown, scan.Medium, scan.Low, scan.Negligible} {
		t.Rows = append(t.Rows, []string{sev, strconv.Itoa(counts[sev]), strings.Join(ids[sev], ", ")})
	}
	s.Table = t
	for i, f := range res.Findings {
		if i == maxSummaryFindings {
			s.Notes = append(s.Notes, fmt.Sprintf("%d more findings are in %s and the attestation.", len(res.Findings)-i, sarifPath))
			break
		}
		fixed := "no fix known"
		if len(f.FixedIn) > 0 {
			fixed = "fixed in " + strings.Join(f.FixedIn, ", ")
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s (%s) in %s %s, %s; artifacts: %s.", f.ID, f.Severity, f.Package.Name, f.Package.Version, fixed, strings.Join(f.Subjects, ", ")))
	}
	for _, a := range att.Subjects {
		s.Rows = append(s.Rows, action.Row{Name: a.Name, Role: "subject", Digest: a.Digest.String(), Size: -1})
	}
	s.Rows = append(s.Rows, action.Row{Name: att.BundlePath, Role: "attestation", Digest: att.BundleDigest.String(), Size: att.BundleSize})
	for _, b := range res.SBOMs {
		s.Notes = append(s.Notes, fmt.Sprintf("%s (%s): %d packages, %d matches.", b.Path, b.Subject, b.Packages, b.Matches))
	}
	db := res.DB
	s.Notes = append(s.Notes,
		fmt.Sprintf("Maximum severity: %s (an unrated finding counts as high).", res.MaxSeverity()),
		fmt.Sprintf("Database: grype schema %s built %s (%s old), from %s, %s; matched by %s.",
			db.SchemaVersion, db.Built.Format(time.RFC3339), now.Sub(db.Built).Round(time.Minute), cmp.Or(db.Source, "a local import"), db.Digest, scan.ScannerURI()),
		fmt.Sprintf("SARIF: %s (upload it with github/codeql-action/upload-sarif).", filepath.ToSlash(sarifPath)))
	return s
}
