package action

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Summary is what a stage tells its caller about a run: a title, the
// subjects it produced or checked with their digests, and notes.
type Summary struct {
	Title string
	Rows  []Row
	// Table is a table of its own after the rows (a test run's failures).
	Table *Table
	Notes []string
}

// Table is a titled table of text cells.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// Row is one subject in a summary.
type Row struct {
	Name   string
	Role   string
	Digest string // "sha256:<hex>"
	Size   int64  // bytes; negative when unknown
}

// Markdown renders the summary for $GITHUB_STEP_SUMMARY.
func (s Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", escapeMarkdown(s.Title))
	if len(s.Rows) > 0 {
		b.WriteString("| Subject | Role | Digest | Size |\n| --- | --- | --- | ---: |\n")
		for _, r := range s.Rows {
			fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", strings.ReplaceAll(r.Name, "`", "'"), escapeMarkdown(r.Role), r.Digest, size(r.Size))
		}
		b.WriteString("\n")
	}
	if t := s.Table; t != nil && len(t.Rows) > 0 {
		fmt.Fprintf(&b, "**%s**\n\n|", escapeMarkdown(t.Title))
		for _, h := range t.Header {
			fmt.Fprintf(&b, " %s |", escapeMarkdown(h))
		}
		b.WriteString("\n|" + strings.Repeat(" --- |", len(t.Header)) + "\n")
		for _, r := range t.Rows {
			b.WriteString("|")
			for _, c := range r {
				fmt.Fprintf(&b, " %s |", escapeMarkdown(c))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", escapeMarkdown(n))
	}
	return b.String()
}

// Text renders the summary for a terminal.
func (s Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", s.Title)
	if len(s.Rows) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SUBJECT\tROLE\tDIGEST\tSIZE")
		for _, r := range s.Rows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Name, r.Role, r.Digest, size(r.Size))
		}
		tw.Flush()
	}
	if t := s.Table; t != nil && len(t.Rows) > 0 {
		fmt.Fprintf(&b, "  %s\n", t.Title)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  "+strings.ToUpper(strings.Join(t.Header, "\t")))
		for _, r := range t.Rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = strings.ReplaceAll(c, "\t", " ")
			}
			fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	return b.String()
}

func size(n int64) string {
	const unit = 1024
	switch {
	case n < 0:
		return "-"
	case n < unit:
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func escapeMarkdown(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
