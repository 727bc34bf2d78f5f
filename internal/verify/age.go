package verify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// timeEvidence is a time something about the subject happened: a bundle
// was signed, a build finished.
type timeEvidence struct {
	bundle string
	at     time.Time
	source string
}

// futureSkew is how far in the future a time may be (clock skew) before it
// fails the age check.
const futureSkew = 5 * time.Minute

// bundleTimes reports a bundle's verified transparency log entries and
// timestamps and returns the times they establish.
func (v *Verifier) bundleTimes(rep *SubjectReport, ev *evidence, b *bundle.Bundle, res *sgverify.VerificationResult) []timeEvidence {
	var out []timeEvidence
	var logTimes, tsaTimes []string
	for _, ts := range res.VerifiedTimestamps {
		switch ts.Type {
		case "Tlog":
			logTimes = append(logTimes, stamp(ts.Timestamp))
			out = append(out, timeEvidence{bundle: ev.path, at: ts.Timestamp, source: "transparency log integrated time"})
		case "TimestampAuthority":
			tsaTimes = append(tsaTimes, stamp(ts.Timestamp))
			out = append(out, timeEvidence{bundle: ev.path, at: ts.Timestamp, source: "RFC 3161 timestamp"})
		}
	}
	if len(tsaTimes) == 0 && v.policy.TrustedRoot != nil {
		// Timestamps not required by the policy still date the signature
		// when they verify.
		if verified, _, err := sgverify.VerifySignedTimestamp(b, v.policy.TrustedRoot); err == nil {
			for _, ts := range verified {
				tsaTimes = append(tsaTimes, stamp(ts.Time))
				out = append(out, timeEvidence{bundle: ev.path, at: ts.Time, source: "RFC 3161 timestamp"})
			}
		}
	}
	if v.usesTlog(b) {
		entries, _ := b.TlogEntries()
		msg := fmt.Sprintf("%d transparency log entr%s verified against the trusted root", len(entries), plural(len(entries), "y", "ies"))
		if len(logTimes) > 0 {
			msg += ", integrated at " + strings.Join(logTimes, ", ")
		}
		rep.pass(CheckTlog, ev.path, "", "%s", msg)
	}
	if len(tsaTimes) > 0 {
		rep.pass(CheckTimestamp, ev.path, "", "%d RFC 3161 timestamp%s verified against the trusted root: %s", len(tsaTimes), plural(len(tsaTimes), "", "s"), strings.Join(tsaTimes, ", "))
	}
	return out
}

// checkAge checks every time found against the policy's maximum age.
// Verified times (log, timestamp authority) date a bundle; a provenance's
// finishedOn dates the build; an OpenPGP signature's creation time is the
// signer's claim. A bundle without any of these has no age of its own; the
// subject fails only when nothing at all dates it.
func (v *Verifier) checkAge(rep *SubjectReport, f *found) {
	maxAge := v.policy.MaxAge
	if maxAge == 0 || !f.signed {
		return
	}
	if len(f.times) == 0 {
		rep.fail(CheckAge, "", "nothing dates the subject, so maxAge %s cannot be checked: no bundle has a transparency log entry or RFC 3161 timestamp, and no provenance a finishedOn; sign with a log or timestamp authority, or attest provenance", age(maxAge))
		return
	}
	now := v.now()
	// One line per bundle and source: the oldest time of each.
	times := slices.Clone(f.times)
	slices.SortStableFunc(times, func(a, b timeEvidence) int { return a.at.Compare(b.at) })
	seen := map[string]bool{}
	for _, t := range times {
		key := t.bundle + "\x00" + t.source
		if seen[key] {
			continue
		}
		seen[key] = true
		d := now.Sub(t.at)
		switch {
		case d < -futureSkew:
			rep.fail(CheckAge, t.bundle, "%s %s is %s in the future; check the signer's clock", t.source, stamp(t.at), age(-d))
		case d > maxAge:
			rep.fail(CheckAge, t.bundle, "%s %s is %s old, older than maxAge %s", t.source, stamp(t.at), age(d), age(maxAge))
		default:
			rep.pass(CheckAge, t.bundle, "", "%s %s is %s old, within maxAge %s", t.source, stamp(t.at), age(max(d, 0)), age(maxAge))
		}
	}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// age formats a duration for people: "41d3h", "2h5m0s".
func age(d time.Duration) string {
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		h := (d - days*24*time.Hour) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
