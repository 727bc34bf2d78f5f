package ghreport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/testresult"
	"github.com/slipway/actions/internal/verify"
)

// Status is a stage's outcome as the caller saw it.
type Status string

// The outcomes reported. A cancelled or skipped stage is not reported.
const (
	Failure Status = "failure"
	Success Status = "success"
)

// Event is one stage's outcome in one run.
type Event struct {
	// Repository is OWNER/NAME, Workflow the workflow's name, Stage the
	// stage (build, verify, dispatch, or any name the caller gives).
	Repository, Workflow, Stage string
	Status                      Status
	// RunURL links to the run (attempt) that reported it; ReleaseURL to
	// the release (its control-plane page or GitHub Release); Commit is
	// the commit the run built. Each may be empty.
	RunURL, ReleaseURL, Commit string
	// Failure is what failed (Status Failure only).
	Failure *Failed
}

// Failed is a stage's failure: its first failed check and the evidence.
type Failed struct {
	// Check names the first failed check (a verify check name, "tests",
	// "job", or the stage name when the stage reports nothing finer);
	// Subject what it was about, Message what was found.
	Check, Subject, Message string
	// Report is slipway verify's report, when the stage verified.
	Report *verify.Report
	// Tests are the failed test cases, when the stage tested.
	Tests []testresult.Case
	// Job is a dispatched job's end, when the stage dispatched.
	Job *Job
	// Log is the log excerpt (masked again before anything is sent).
	Log string
}

// Job is how a Slurm job ended, as slipway dispatch reports it.
type Job struct {
	ID       string
	State    string
	ExitCode string
	Elapsed  time.Duration
}

// Fingerprint identifies a failure for deduplication: repository,
// workflow, stage and first failed check, hashed (16 hex digits).
func (e Event) Fingerprint() string {
	check := ""
	if e.Failure != nil {
		check = e.Failure.Check
	}
	return key(e.Repository, e.Workflow, e.Stage, check)
}

// StageKey identifies the stage whatever failed (16 hex digits): a pass
// closes every open issue with it.
func (e Event) StageKey() string { return key(e.Repository, e.Workflow, e.Stage) }

func key(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// Validate checks what every report needs.
func (e Event) Validate() error {
	switch {
	case e.Repository == "":
		return fmt.Errorf("no repository: give OWNER/NAME (GITHUB_REPOSITORY in a workflow)")
	case e.Stage == "":
		return fmt.Errorf("no stage: name the stage whose outcome this is (build, verify, dispatch, …)")
	case e.Status != Failure && e.Status != Success:
		return fmt.Errorf("status %q is neither failure nor success (internal error)", e.Status)
	case e.Status == Failure && (e.Failure == nil || e.Failure.Check == ""):
		return fmt.Errorf("a failure with no failed check (internal error)")
	}
	return nil
}

// FromReport is the failure a verify report shows: its first failed check
// (nil when every check passed).
func FromReport(r *verify.Report) *Failed {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	c := failed[0]
	return &Failed{Check: c.Check, Subject: c.Subject, Message: c.Message, Report: r}
}

// FromTests is the failure of a test report: its failed cases, the first
// one named (nil when none failed).
func FromTests(r *testresult.Report) *Failed {
	var failed []testresult.Case
	for _, c := range r.Cases {
		if c.Status == testresult.Failed {
			failed = append(failed, c)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	first := failed[0]
	msg := first.Message
	if first.File != "" {
		msg = strings.TrimSpace(fmt.Sprintf("%s:%d: %s", first.File, first.Line, msg))
	}
	return &Failed{Check: "tests", Subject: first.FullName(), Message: fmt.Sprintf("%d test(s) failed; the first: %s", len(failed), msg), Tests: failed}
}

// FromJob is the failure of a dispatched job that did not complete with
// exit code 0 (nil when it did).
func FromJob(j Job) *Failed {
	if strings.EqualFold(j.State, "COMPLETED") && j.ExitCode == "0" {
		return nil
	}
	msg := fmt.Sprintf("Slurm job %s ended %s with exit code %s", j.ID, j.State, j.ExitCode)
	if j.Elapsed > 0 {
		msg += " after " + j.Elapsed.String()
	}
	return &Failed{Check: "job", Subject: "job " + j.ID, Message: msg, Job: &j}
}
