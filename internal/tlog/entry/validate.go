package entry

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// looksSecret reports whether s has the shape of a credential: a Slipway
// service token ("slw_…") or a JWT (three base64url parts, the first a JSON
// header "eyJ…"). A log is public and forever: a token must never reach it.
func looksSecret(s string) bool {
	return strings.HasPrefix(s, "slw_") || (strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2)
}

// Validate checks the fields every entry of its kind needs.
func (e *Entry) Validate() error {
	if e.Version != Version {
		return fmt.Errorf("log entry has version %d; this slipway reads version %d: upgrade slipway to read it", e.Version, Version)
	}
	var want Decision
	switch e.Kind {
	case KindReleaseAdmitted:
		want = DecisionAdmitted
	case KindReleaseRejected:
		want = DecisionRejected
	default:
		return fmt.Errorf("log entry has kind %q; this slipway knows %q and %q: upgrade slipway to read it", e.Kind, KindReleaseAdmitted, KindReleaseRejected)
	}
	switch {
	case e.Decision != want:
		return fmt.Errorf("log entry of kind %q has decision %q; want %q", e.Kind, e.Decision, want)
	case e.Kind == KindReleaseRejected && e.Check == "":
		return errors.New(`rejected log entry has no field "check": name the check that failed`)
	case e.Kind == KindReleaseAdmitted && e.Check != "":
		return fmt.Errorf("admitted log entry names a failed check %q: only rejections have one", e.Check)
	case e.Release == "":
		return errors.New(`log entry has no field "release": every entry names its release id`)
	case e.Uploader == "":
		return errors.New(`log entry has no field "uploader": every entry names the uploader's identity`)
	case looksSecret(e.Uploader):
		return errors.New(`log entry field "uploader" looks like a credential (a service token or a JWT): log the identity's name, never its token`)
	case e.Time.IsZero():
		return errors.New(`log entry has no field "time": every entry records when it was decided`)
	case e.Time.Location() != time.UTC:
		return fmt.Errorf("log entry time %q is not in UTC: write times in UTC", e.Time)
	case e.Kind == KindReleaseAdmitted && len(e.Artifacts) == 0:
		return errors.New(`admitted log entry has no "artifacts": a release names at least one artifact`)
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
