package entry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
)

// looksSecret reports whether s has the shape of a credential: a Slipway
// service token ("slw_…") or a JWT (three base64url parts, the first a JSON
// header "eyJ…"). A log is public and forever: a token must never reach it.
func looksSecret(s string) bool {
	return strings.HasPrefix(s, "slw_") || (strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2)
}

// decisions is the decision each kind records.
var decisions = map[Kind]Decision{
	KindReleaseAdmitted:    DecisionAdmitted,
	KindReleaseRejected:    DecisionRejected,
	KindDispatchAuthorized: DecisionAuthorized,
	KindDispatchRecorded:   DecisionRecorded,
	KindOutputsAdmitted:    DecisionAdmitted,
}

// maxLogIndex is the largest log index an entry names: RFC 8785 writes
// numbers as IEEE doubles, which hold integers exactly up to 2^53-1.
const maxLogIndex = 1<<53 - 1

// Validate checks the fields every entry of its kind needs.
func (e *Entry) Validate() error {
	if e.Version != Version {
		return fmt.Errorf("log entry has version %d; this slipway reads version %d: upgrade slipway to read it", e.Version, Version)
	}
	want, ok := decisions[e.Kind]
	if !ok {
		return fmt.Errorf("log entry has kind %q; this slipway knows %q: upgrade slipway to read it", e.Kind, Kinds)
	}
	switch {
	case e.Decision != want:
		return fmt.Errorf("log entry of kind %q has decision %q; want %q", e.Kind, e.Decision, want)
	case e.Kind == KindReleaseRejected && e.Check == "":
		return errors.New(`rejected log entry has no field "check": name the check that failed`)
	case e.Kind != KindReleaseRejected && e.Check != "":
		return fmt.Errorf("%s log entry names a failed check %q: only rejections have one", e.Kind, e.Check)
	case e.Release == "":
		return errors.New(`log entry has no field "release": every entry names its release id`)
	case e.Uploader == "":
		return errors.New(`log entry has no field "uploader": every entry names the identity that asked for it`)
	case looksSecret(e.Uploader):
		return errors.New(`log entry field "uploader" looks like a credential (a service token or a JWT): log the identity's name, never its token`)
	case e.Time.IsZero():
		return errors.New(`log entry has no field "time": every entry records when it was decided`)
	case e.Time.Location() != time.UTC:
		return fmt.Errorf("log entry time %q is not in UTC: write times in UTC", e.Time)
	case e.Kind != KindReleaseRejected && len(e.Artifacts) == 0:
		return fmt.Errorf(`%s log entry has no "artifacts": a release names at least one artifact`, e.Kind)
	case e.isDispatch() != (e.Dispatch != nil):
		return fmt.Errorf(`log entry of kind %q %s field "dispatch": only %q and %q entries have one, and they must`, e.Kind, has(e.Dispatch != nil), KindDispatchAuthorized, KindDispatchRecorded)
	case (e.Kind == KindOutputsAdmitted) != (len(e.Inputs) > 0):
		return fmt.Errorf(`log entry of kind %q %s field "inputs": only %q entries have them, and they need one at least`, e.Kind, has(len(e.Inputs) > 0), KindOutputsAdmitted)
	case e.isDispatch() && len(e.Evidence) > 0:
		return fmt.Errorf(`log entry of kind %q has "evidence": a dispatch names the release's artifacts only`, e.Kind)
	}
	if e.Dispatch != nil {
		if err := e.Dispatch.validate(e.Kind); err != nil {
			return err
		}
	}
	inputs := map[string]bool{}
	for i, in := range e.Inputs {
		switch {
		case in.Release == "":
			return fmt.Errorf("log entry input %d has an empty release id", i)
		case inputs[in.Release]:
			return fmt.Errorf("log entry names input release %q twice", in.Release)
		case in.LogIndex > maxLogIndex:
			return fmt.Errorf("log entry input %q: log index %d is over 2^53-1, which canonical JSON cannot write exactly", in.Release, in.LogIndex)
		}
		inputs[in.Release] = true
	}
	seen := map[string]bool{}
	for i, a := range e.Artifacts {
		if a.Name == "" {
			return fmt.Errorf("log entry artifact %d has an empty name", i)
		}
		if seen[a.Name] {
			return fmt.Errorf("log entry names artifact %q twice: an artifact has one digest", a.Name)
		}
		seen[a.Name] = true
		if !hexDigest.MatchString(a.SHA256) {
			return fmt.Errorf("log entry artifact %q: sha256 %q is not 64 lowercase hex digits", a.Name, a.SHA256)
		}
	}
	for i, v := range e.Evidence {
		switch {
		case v.Name == "":
			return fmt.Errorf("log entry evidence %d has an empty name", i)
		case v.Role == "":
			return fmt.Errorf("log entry evidence %q has an empty role", v.Name)
		case !hexDigest.MatchString(v.SHA256):
			return fmt.Errorf("log entry evidence %q: sha256 %q is not 64 lowercase hex digits", v.Name, v.SHA256)
		case v.Describes != "" && !hexDigest.MatchString(v.Describes):
			return fmt.Errorf("log entry evidence %q: describes %q is not 64 lowercase hex digits", v.Name, v.Describes)
		}
	}
	return nil
}

func has(b bool) string {
	if b {
		return "has"
	}
	return "lacks"
}

// jobID is Slurm's job id as text: decimal, no sign or leading zero.
var jobID = lazyregexp.New(`^[1-9][0-9]{0,9}$`)

// runID is the charset of the dispatcher's idempotency key (API8.md).
var runID = lazyregexp.New(`^[A-Za-z0-9._:=/-]{1,255}$`)

// isDispatch reports whether e's kind is about a dispatch.
func (e *Entry) isDispatch() bool {
	return e.Kind == KindDispatchAuthorized || e.Kind == KindDispatchRecorded
}

// validate checks a dispatch's fields for an entry of kind; none may look
// like a credential.
func (d *Dispatch) validate(kind Kind) error {
	if kind == KindDispatchAuthorized {
		switch {
		case d.ID != "" || d.JobID != "":
			return fmt.Errorf(`log entry of kind %q names a job (id %q, jobId %q): an authorization comes before the job exists`, kind, d.ID, d.JobID)
		case d.Authorization == "" || d.Fingerprint == "":
			return fmt.Errorf(`log entry of kind %q lacks "authorization" or "fingerprint": an authorization names both`, kind)
		}
	} else {
		switch {
		case !dispatchID.MatchString(d.ID):
			return fmt.Errorf(`log entry dispatch id %q is not "d-" and 16 lowercase hex digits`, d.ID)
		case !jobID.MatchString(d.JobID):
			return fmt.Errorf("log entry dispatch job id %q is not a Slurm job id (decimal digits)", d.JobID)
		case (d.Authorization == "") != (d.Fingerprint == ""):
			return errors.New(`log entry dispatch names one of "authorization" and "fingerprint": a recorded job names its authorization with both, or neither (entries written before authorizations)`)
		}
	}
	switch {
	case d.Authorization != "" && !AuthorizationID.MatchString(d.Authorization):
		return fmt.Errorf(`log entry dispatch authorization %q is not "a-" and 16 lowercase hex digits`, d.Authorization)
	case d.Fingerprint != "" && !hexDigest.MatchString(d.Fingerprint):
		return fmt.Errorf("log entry dispatch fingerprint %q is not 64 lowercase hex digits (the job spec's SHA-256)", d.Fingerprint)
	case !runID.MatchString(d.RunID):
		return fmt.Errorf("log entry dispatch run id %q is not 1 to 255 characters of [A-Za-z0-9._:=/-]", d.RunID)
	}
	for _, f := range []struct{ name, v string }{{"runId", d.RunID}, {"builderId", d.BuilderID}, {"cluster", d.Cluster}, {"partition", d.Partition}} {
		if looksSecret(f.v) {
			return fmt.Errorf("log entry dispatch field %q looks like a credential (a service token or a JWT): never log a token", f.name)
		}
		if len(f.v) > 1024 {
			return fmt.Errorf("log entry dispatch field %q is %d bytes, over the limit of 1024", f.name, len(f.v))
		}
	}
	return nil
}

// dispatchID is the control plane's dispatch id.
var dispatchID = lazyregexp.New(`^d-[0-9a-f]{16}$`)

// AuthorizationID is the form of the control plane's dispatch
// authorization id.
var AuthorizationID = lazyregexp.New(`^a-[0-9a-f]{16}$`)
