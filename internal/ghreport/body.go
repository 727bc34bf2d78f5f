package ghreport

import (
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// markerRe is the hidden first line of every issue the reporter opens: the
// fingerprint finds the issue a failure comments on, the stage key the
// issues a pass closes. Only an issue's first line counts, so that a log
// excerpt quoting a marker cannot stand for one.
var markerRe = lazyregexp.New(`^<!-- slipway-report v1 fingerprint=([0-9a-f]{16}) stage=([0-9a-f]{16}) -->`)

func marker(e Event) string {
	return fmt.Sprintf("<!-- slipway-report v1 fingerprint=%s stage=%s -->", e.Fingerprint(), e.StageKey())
}

// parseMarker returns the fingerprint and stage key of an issue body.
func parseMarker(body string) (fingerprint, stage string, ok bool) {
	m := markerRe.FindStringSubmatch(body)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// maxBody is below GitHub's 65,536-character limit on issue and comment
// bodies, leaving room for what masking adds.
const maxBody = 60000

// maxTitle bounds an issue title (GitHub allows 256 characters).
const maxTitle = 200

// Title is the issue's title.
func Title(e Event) string {
	t := fmt.Sprintf("slipway: %s failed at check %s", e.Stage, e.Failure.Check)
	if e.Workflow != "" {
		t += " (" + e.Workflow + ")"
	}
	return truncate(oneLine(t), maxTitle)
}

// IssueBody renders the issue of a failure: marker, summary, failed check,
// failed tests or job, log excerpt, verification report.
func IssueBody(e Event) string {
	var b strings.Builder
	b.WriteString(marker(e) + "\n")
	fmt.Fprintf(&b, "### Stage %s failed at check %s\n\n", code(e.Stage), code(e.Failure.Check))
	writeContext(&b, e)
	writeFailure(&b, e.Failure)
	b.WriteString("\nThis issue is kept by `slipway report`: a new failure with the same fingerprint is added as a comment, and the issue is closed when the stage passes again.\n")
	return fit(b.String(), e.Failure)
}

// CommentBody renders the comment of a failure seen again.
func CommentBody(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Failed again at check %s\n\n", code(e.Failure.Check))
	writeContext(&b, e)
	writeFailure(&b, e.Failure)
	return fit(b.String(), e.Failure)
}

// ClosingBody renders the comment that closes an issue on a pass.
func ClosingBody(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Stage %s passed again\n\n", code(e.Stage))
	writeContext(&b, e)
	b.WriteString("Closing: the stage this issue is about succeeded.\n")
	return b.String()
}

func writeContext(b *strings.Builder, e Event) {
	var parts []string
	parts = append(parts, "**Repository** "+code(e.Repository))
	if e.Workflow != "" {
		parts = append(parts, "**Workflow** "+code(e.Workflow))
	}
	if e.RunURL != "" {
		parts = append(parts, "**Run** "+link("this run", e.RunURL))
	}
	if e.Commit != "" {
		parts = append(parts, "**Commit** "+code(e.Commit))
	}
	if e.ReleaseURL != "" {
		parts = append(parts, "**Release** "+link("the release", e.ReleaseURL))
	}
	b.WriteString(strings.Join(parts, " · ") + "\n\n")
}

func writeFailure(b *strings.Builder, f *Failed) {
	b.WriteString("#### Failed check\n\n")
	line := fmt.Sprintf("FAIL %s %s: %s", f.Check, f.Subject, f.Message)
	b.WriteString(fence(line))
	if len(f.Tests) > 0 {
		fmt.Fprintf(b, "#### Failed tests (%d)\n\n", len(f.Tests))
		var lines []string
		for i, c := range f.Tests {
			if i == 50 {
				lines = append(lines, fmt.Sprintf("… and %d more", len(f.Tests)-i))
				break
			}
			where := ""
			if c.File != "" {
				where = fmt.Sprintf(" (%s:%d)", c.File, c.Line)
			}
			lines = append(lines, fmt.Sprintf("%s%s: %s", c.FullName(), where, oneLine(c.Message)))
		}
		b.WriteString(fence(strings.Join(lines, "\n")))
	}
	if f.Job != nil {
		b.WriteString("#### Slurm job\n\n")
		b.WriteString(fence(fmt.Sprintf("job %s: state %s, exit code %s, elapsed %s", f.Job.ID, f.Job.State, f.Job.ExitCode, f.Job.Elapsed)))
	}
	if f.Log != "" {
		b.WriteString("#### Log excerpt\n\n")
		b.WriteString(fence(f.Log))
	}
	if f.Report != nil {
		failed := len(f.Report.Failed())
		n := 0
		var text strings.Builder
		for _, s := range f.Report.Subjects {
			for _, c := range s.Checks {
				n++
				text.WriteString(c.Line() + "\n")
			}
		}
		fmt.Fprintf(b, "<details><summary>Verification report: %d checks, %d not passed (policy %s)</summary>\n\n", n, failed, html(f.Report.Policy))
		b.WriteString(fence(strings.TrimRight(text.String(), "\n")))
		b.WriteString("</details>\n")
	}
}

// fit shortens a body over maxBody: the log excerpt first (its end kept),
// then the verification report, then a hard cut.
func fit(body string, f *Failed) string {
	if len(body) <= maxBody {
		return body
	}
	over := len(body) - maxBody
	if f.Log != "" {
		g := *f
		keep := max(len(f.Log)-over-200, 0)
		g.Log = "[… cut]\n" + strings.ToValidUTF8(f.Log[len(f.Log)-keep:], "")
		if over <= len(f.Log) {
			return strings.Replace(body, fence(f.Log), fence(g.Log), 1)
		}
	}
	return strings.ToValidUTF8(body[:maxBody], "") + "\n\n[… the rest was cut: GitHub limits a body to 65,536 characters]\n"
}

// fence puts text in a code block whose fence is longer than any run of
// backticks in it, so that nothing in it renders as Markdown or mentions.
func fence(text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + "text\n" + text + "\n" + f + "\n\n"
}

// code renders a short value inline, as code.
func code(s string) string {
	s = oneLine(s)
	if strings.Contains(s, "`") {
		return "``" + " " + strings.ReplaceAll(s, "``", "` `") + " " + "``"
	}
	return "`" + s + "`"
}

func link(text, url string) string {
	return "[" + text + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(url) + ")"
}

func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(oneLine(s))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n-1], "") + "…"
}
