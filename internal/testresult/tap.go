package testresult

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

var (
	tapPlan = lazyregexp.New(`^1\.\.(\d+)\s*(?:#\s*(.*))?$`)
	tapTest = lazyregexp.New(`^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$`)
	// tapDirective is a "# SKIP" or "# TODO" directive (any case; "skip"
	// may be followed by letters, as in "# skipped").
	tapDirective = lazyregexp.New(`(?i)^#\s*(skip\S*|todo)\b\s*(.*)$`)
	tapYAMLKey   = lazyregexp.New(`^(\s*)(file|line|message|error|location)\s*:\s*(.*)$`)
	tapUnescape  = strings.NewReplacer(`\\`, `\`, `\#`, "#")
	tapLocation  = lazyregexp.New(`^(.+?):(\d+)(?::\d+)?$`)
	tapPerlAt    = lazyregexp.New(`^#\s+at (\S+) line (\d+)\.`)
)

// tapParser reads TAP versions 12, 13 and 14: a plan at the start or the
// end, test lines with SKIP and TODO directives, YAML diagnostics after a
// test line, "Bail out!". Indented lines (TAP 14 subtests) are left to the
// test line that sums each subtest up.
type tapParser struct {
	name     string
	rep      *Report
	planned  int
	planLine int
	count    int
	last     int // the index of the last test, which a YAML block describes
	lastAt   int // its line
	bail     bool
}

func parseTAP(name string, r io.Reader) (*Report, error) {
	p := &tapParser{name: name, rep: &Report{Format: TAP}, planned: -1, last: -1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	line := 0
	var yaml *boundedText
	yamlLine, yamlIndent := 0, ""
	for sc.Scan() {
		line++
		raw := strings.TrimRight(sc.Text(), "\r")
		if yaml != nil {
			if strings.TrimSpace(raw) == "..." && strings.HasPrefix(raw, yamlIndent) {
				p.diagnostics(yaml.String())
				yaml = nil
				continue
			}
			if !strings.HasPrefix(raw, yamlIndent) && strings.TrimSpace(raw) != "" {
				return nil, p.errorf(line, "the YAML block started at line %d is not closed by \"...\": the stream is malformed or truncated", yamlLine)
			}
			yaml.Write([]byte(raw + "\n"))
			continue
		}
		if raw != strings.TrimLeft(raw, " \t") {
			t := strings.TrimLeft(raw, " \t")
			if t == "---" && p.last >= 0 && line == p.lastAt+1 {
				yaml, yamlLine, yamlIndent = &boundedText{}, line, raw[:len(raw)-3]
			}
			continue // subtest lines, or other output
		}
		if err := p.line(raw, line); err != nil {
			return nil, err
		}
		if p.bail {
			return p.rep, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, p.errorf(line+1, "reading the stream: %v", err)
	}
	if yaml != nil {
		return nil, p.errorf(line, "the stream ends inside the YAML block started at line %d: it is truncated; run the tests again and keep their whole output", yamlLine)
	}
	switch {
	case p.planned < 0 && p.count == 0:
		return nil, p.errorf(line, "no TAP plan and no test lines: no test results; check that the test tool wrote TAP here")
	case p.planned < 0:
		return nil, p.errorf(line, "the stream ends without a plan (1..N) after %d tests: it is truncated, or the tests stopped early; run them again and keep their whole output", p.count)
	case p.count != p.planned:
		return nil, p.errorf(line, "the plan at line %d announces %d tests but %d ran: the stream is truncated, or the tests stopped early", p.planLine, p.planned, p.count)
	}
	return p.rep, nil
}

func (p *tapParser) line(s string, n int) error {
	switch {
	case strings.HasPrefix(s, "TAP version"):
		v, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(s, "TAP version")))
		if err != nil || v < 13 || v > 14 {
			return p.errorf(n, "%q: this reader knows TAP versions 12 (no version line), 13 and 14", s)
		}
		if n != 1 || p.count > 0 {
			return p.errorf(n, "the TAP version line must be the first line")
		}
	case strings.HasPrefix(s, "Bail out!"):
		p.rep.Cases = append(p.rep.Cases, Case{Suite: p.name, Status: Failed, Message: message(s)})
		p.bail = true
	case tapPlan.MatchString(s):
		if p.planned >= 0 {
			return p.errorf(n, "a second plan (the first is at line %d): two TAP streams mixed up; keep one per file", p.planLine)
		}
		m := tapPlan.FindStringSubmatch(s)
		k, err := strconv.Atoi(m[1])
		if err != nil {
			return p.errorf(n, "plan %q: the count is not a number", s)
		}
		if p.count > 0 && p.count != k {
			return p.errorf(n, "the plan announces %d tests but %d ran before it", k, p.count)
		}
		p.planned, p.planLine = k, n
	case tapTest.MatchString(s):
		if p.planned >= 0 && p.planLine < n && p.count >= p.planned {
			return p.errorf(n, "a test line after the plan's last test (1..%d at line %d): more tests ran than planned", p.planned, p.planLine)
		}
		m := tapTest.FindStringSubmatch(s)
		p.count++
		if m[2] != "" {
			k, err := strconv.Atoi(m[2])
			if err != nil || k != p.count {
				return p.errorf(n, "test number %s where %d was expected: tests out of order, missing or repeated", m[2], p.count)
			}
		}
		// The description ends at the first unescaped "#": a directive
		// (SKIP, TODO) or a comment follows.
		desc, dir, reason := m[3], "", ""
		for i := 0; i < len(desc); i++ {
			if desc[i] == '\\' {
				i++
				continue
			}
			if desc[i] == '#' {
				if d := tapDirective.FindStringSubmatch(desc[i:]); d != nil {
					dir, reason = strings.ToLower(d[1]), d[2]
				}
				desc = desc[:i]
				break
			}
		}
		desc = strings.TrimSpace(tapUnescape.Replace(desc))
		if desc == "" {
			desc = "test " + strconv.Itoa(p.count)
		}
		c := Case{Suite: p.name, Name: desc, Status: Passed}
		switch {
		case strings.HasPrefix(dir, "skip"):
			c.Status, c.Message = Skipped, strings.TrimSpace(reason)
		case dir == "todo" && m[1] == "not ok":
			c.Status, c.Message = Warned, strings.TrimSpace("TODO "+reason)
		case m[1] == "not ok":
			c.Status = Failed
		}
		p.rep.Cases = append(p.rep.Cases, c)
		p.last, p.lastAt = len(p.rep.Cases)-1, n
	case strings.HasPrefix(s, "#"):
		p.comment(s)
	}
	// Anything else (pragmas, other output) is not TAP's.
	return nil
}

// diagnostics takes the message and location from a test's YAML block:
// message or error (node --test), file and line (node-tap's at:) or
// location ("file:line:column", node --test). Block scalars (| and >) are
// read to the end of their indentation.
func (p *tapParser) diagnostics(yaml string) {
	c := &p.rep.Cases[p.last]
	lines := strings.Split(yaml, "\n")
	for i := 0; i < len(lines); i++ {
		m := tapYAMLKey.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		key, v := m[2], strings.TrimSpace(m[3])
		if strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") {
			var block []string
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > len(m[1])) {
				i++
				block = append(block, strings.TrimSpace(lines[i]))
			}
			v = strings.Join(block, "\n")
		}
		v = strings.Trim(v, `'"`)
		switch key {
		case "file":
			if c.File == "" {
				c.File = v
			}
		case "line":
			if n, err := strconv.Atoi(v); err == nil && c.Line == 0 {
				c.Line = n
			}
		case "location":
			if f, l, ok := splitLocation(v); ok && c.File == "" {
				c.File, c.Line = f, l
			}
		case "message", "error":
			if c.Message == "" {
				c.Message = message(v)
			}
		}
	}
}

// splitLocation splits "file:line" or "file:line:column".
func splitLocation(s string) (string, int, bool) {
	m := tapLocation.FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	n, _ := strconv.Atoi(m[2])
	return m[1], n, true
}

// comment takes a failed test's location from Test::More's diagnostics
// ("#   at t/x.t line 6."), when its standard error went to the same stream.
func (p *tapParser) comment(s string) {
	if p.last < 0 {
		return
	}
	c := &p.rep.Cases[p.last]
	if m := tapPerlAt.FindStringSubmatch(s); m != nil && c.File == "" && c.Status != Passed {
		c.File = m[1]
		c.Line, _ = strconv.Atoi(m[2])
	}
}

func (p *tapParser) errorf(line int, format string, a ...any) error {
	return &ParseError{File: p.name, Line: line, Offset: -1, Msg: fmt.Sprintf(format, a...)}
}
