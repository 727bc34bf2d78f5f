package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Check names: what a line of the report is about.
const (
	CheckBundle     = "bundle"     // a bundle or signature file could be read and parsed
	CheckSignature  = "signature"  // a trusted signer signed it (key, keyless identity, OpenPGP key)
	CheckTlog       = "tlog"       // its transparency log entries verify
	CheckTimestamp  = "timestamp"  // its signed timestamps verify
	CheckDigest     = "digest"     // what was signed is the subject's digest
	CheckPredicate  = "predicate"  // attestation predicate types are allowed, required ones present
	CheckProvenance = "provenance" // SLSA provenance is present and readable
	CheckBuilder    = "builder"    // the provenance's builder is allowed
	CheckSource     = "source"     // the provenance's source repository is allowed
	CheckSBOM       = "sbom"       // an SBOM attestation binds to the subject
	CheckAge        = "age"        // signatures and provenance are younger than maxAge
	CheckManifest   = "manifest"   // the manifest names the artifact as its verified provenance does
	CheckReceipt    = "receipt"    // a receipt of Slipway's log proves the release naming it was admitted
	CheckChain      = "chain"      // a dispatched job's output provenance names the input release verified with it
	CheckTests      = "tests"      // the newest verified test result is acceptable to the policy's tests section
	// CheckVulnerabilities: the newest verified vulnerability scan is recent
	// enough and has no finding above the policy's maxSeverity.
	CheckVulnerabilities = "vulnerabilities"
	CheckJob             = "job" // the dispatched job that made an output completed with exit code 0 (or WithFailedJobs)
)

// Status is the outcome of a check.
type Status string

// The outcomes of a check. Error is a check that could not be made (a
// registry that did not answer, or answered with a server error): no
// verdict on the subject, so that a caller can tell an outage from a
// forgery (slipway verify exits 3, not 1).
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Error Status = "error"
)

// Check is one line of the report.
type Check struct {
	// Check is one of the Check* names.
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Subject is the subject's name.
	Subject string `json:"subject"`
	// Bundle is the bundle or signature file the check is about, if any.
	Bundle string `json:"bundle,omitempty"`
	// Signer is the policy signer that verified the bundle, if any.
	Signer string `json:"signer,omitempty"`
	// Message says what was found and, on failure, why it is not enough.
	Message string `json:"message"`
}

// Line renders the check as one line of text:
// "PASS signature  app.tar.gz.sigstore.json: sigstore bundle signed by ...".
func (c Check) Line() string {
	where := c.Subject
	if c.Bundle != "" {
		where = baseName(c.Bundle)
	}
	return fmt.Sprintf("%s %-10s %s: %s", strings.ToUpper(string(c.Status)), c.Check, where, c.Message)
}

// SubjectReport is the outcome for one subject.
type SubjectReport struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
	// Digest is "sha256:<hex>" of the content read; empty if it could not
	// be read.
	Digest   string  `json:"digest,omitempty"`
	Size     int64   `json:"size"`
	Verified bool    `json:"verified"`
	Checks   []Check `json:"checks"`
	// Sources are the source repositories that the subject's verified
	// provenance (signed, and passing every provenance rule) names, as
	// written there: what the control plane checks the uploader against.
	Sources []string `json:"sources,omitempty"`
	// provenance are the subjects of the verified provenance statements
	// about this subject, for the manifest's cross-check.
	provenance []signedSubject
	// inputs are the input releases a verified slurm-dispatch provenance
	// about this subject names (see VerifyChain).
	inputs []releaseInput
	// dispatched says a verified slurm-dispatch provenance is about this
	// subject (DispatchInputs).
	dispatched bool
}

func (s *SubjectReport) add(c Check) {
	c.Subject = s.Name
	s.Checks = append(s.Checks, c)
}

func (s *SubjectReport) pass(check, bundle, signer, format string, a ...any) {
	s.add(Check{Check: check, Status: Pass, Bundle: bundle, Signer: signer, Message: fmt.Sprintf(format, a...)})
}

func (s *SubjectReport) fail(check, bundle, format string, a ...any) {
	s.add(Check{Check: check, Status: Fail, Bundle: bundle, Message: fmt.Sprintf(format, a...)})
}

// failRead records a failure to read evidence from a registry: Error when
// err is an outage (see unreachable), Fail otherwise.
func (s *SubjectReport) failRead(check, bundle string, err error, format string, a ...any) {
	st := Fail
	if unreachable(err) {
		st = Error
	}
	s.add(Check{Check: check, Status: st, Bundle: bundle, Message: fmt.Sprintf(format, a...)})
}

// finish sets Verified: at least one check, none failed.
func (s *SubjectReport) finish() {
	s.Verified = len(s.Checks) > 0
	for _, c := range s.Checks {
		if c.Status != Pass {
			s.Verified = false
		}
	}
}

// Report is the outcome of verifying subjects against a policy.
type Report struct {
	// Verified is true when every subject passed every check.
	Verified bool `json:"verified"`
	// Policy is the policy file.
	Policy   string           `json:"policy"`
	Subjects []*SubjectReport `json:"subjects"`
	// Locations are the registry copies a manifest records (role
	// registry): not verified here, listed so that they can be verified
	// as images.
	Locations []Location `json:"locations,omitempty"`
}

// Location is where the push stage put a manifest's artifacts: a registry
// record. Nothing the build signed names it, so it is neither evidence nor
// a subject of a manifest's verification; verify the copy itself as an
// image (Subject.Image = URI; slipway verify --image URI) once it has been
// signed and attested in the registry.
type Location struct {
	Name   string `json:"name"`
	URI    string `json:"uri"`
	Digest string `json:"digest"`
}

// Add appends a subject's report and updates Verified.
func (r *Report) Add(s *SubjectReport) {
	r.Subjects = append(r.Subjects, s)
	r.refresh()
}

// refresh recomputes every subject's and the report's Verified.
func (r *Report) refresh() {
	r.Verified = true
	for _, s := range r.Subjects {
		s.finish()
		if !s.Verified {
			r.Verified = false
		}
	}
}

// Failed returns the failed checks.
func (r *Report) Failed() []Check {
	var out []Check
	for _, s := range r.Subjects {
		for _, c := range s.Checks {
			if c.Status != Pass {
				out = append(out, c)
			}
		}
	}
	return out
}

// Unverifiable reports whether some check could not be made (status
// Error) while none failed: the subjects are neither verified nor refuted.
func (r *Report) Unverifiable() bool {
	var errs bool
	for _, c := range r.Failed() {
		if c.Status == Fail {
			return false
		}
		errs = true
	}
	return errs
}

// WriteText writes one line per check, then one per location.
func (r *Report) WriteText(w io.Writer) error {
	for _, s := range r.Subjects {
		for _, c := range s.Checks {
			if _, err := fmt.Fprintln(w, c.Line()); err != nil {
				return err
			}
		}
	}
	for _, l := range r.Locations {
		if _, err := fmt.Fprintln(w, l.Line()); err != nil {
			return err
		}
	}
	return nil
}

// Line renders the location as one line of text.
func (l Location) Line() string {
	return fmt.Sprintf("NOTE %-10s %s: pushed as %s; a location, not evidence, so not verified here: verify it with slipway verify --image %s", "registry", l.Name, l.URI, l.URI)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
