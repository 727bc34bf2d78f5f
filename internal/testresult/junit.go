package testresult

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// junitSuite is an open <testsuite>: its name, the failures and errors its
// attributes report, and how many failing cases were seen inside it.
type junitSuite struct {
	name            string
	reported, found int
	line            int
}

// junitParser reads JUnit XML: a <testsuites> or <testsuite> root, suites
// nested in suites, <testcase> with <failure>, <error>, <skipped> and
// Surefire's <flakyFailure>, <flakyError>, <rerunFailure>, <rerunError>.
type junitParser struct {
	name   string
	d      *xml.Decoder
	rep    *Report
	suites []junitSuite
	tc     *Case // the open <testcase>
	text   boundedText
}

func parseJUnit(name string, r io.Reader) (*Report, error) {
	p := &junitParser{name: name, d: xml.NewDecoder(r), rep: &Report{Format: JUnit}}
	p.d.Strict = true
	root := false
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			if !root {
				return nil, p.errorf("no XML element: not a JUnit report; check that the test tool wrote its report here")
			}
			if len(p.suites) > 0 || p.tc != nil {
				return nil, p.errorf("the report ends inside <testsuite> or <testcase>: it is truncated; write the report again, completely")
			}
			return p.rep, nil
		}
		if err != nil {
			return nil, p.syntax(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !root {
				if t.Name.Local != "testsuites" && t.Name.Local != "testsuite" {
					return nil, p.errorf("the root element is <%s>, not <testsuites> or <testsuite>: not a JUnit report", t.Name.Local)
				}
				root = true
				if t.Name.Local == "testsuites" {
					if err := p.container(); err != nil {
						return nil, err
					}
					continue
				}
			}
			if err := p.start(t); err != nil {
				return nil, err
			}
		}
	}
}

// container reads a <testsuites> element's content up to its end.
func (p *junitParser) container() error {
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// token is the next token; EOF inside an element is truncation.
func (p *junitParser) token() (xml.Token, error) {
	tok, err := p.d.Token()
	if err == io.EOF {
		return nil, p.errorf("the report ends before its last element is closed: it is truncated; write the report again, completely")
	}
	if err != nil {
		return nil, p.syntax(err)
	}
	return tok, nil
}

// start handles a start element below the root; it reads the element up to
// its end.
func (p *junitParser) start(t xml.StartElement) error {
	switch t.Name.Local {
	case "testsuite":
		return p.suite(t)
	case "testcase":
		return p.testcase(t)
	}
	return p.skip()
}

// skip skips the element just started.
func (p *junitParser) skip() error {
	if err := p.d.Skip(); err != nil {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return p.errorf("the report ends before its last element is closed: it is truncated; write the report again, completely")
		}
		return p.syntax(err)
	}
	return nil
}

func (p *junitParser) suite(t xml.StartElement) error {
	line, _ := p.d.InputPos()
	s := junitSuite{name: attr(t, "name"), line: line}
	if s.name == "(empty)" {
		s.name = "" // ctest's name for a build without a name
	}
	for _, a := range []string{"failures", "errors"} {
		v := attr(t, a)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return p.errorf("<testsuite name=%q> has %s=%q, not a count", s.name, a, v)
		}
		s.reported += n
	}
	p.suites = append(p.suites, s)
	var own []Case // failures of the suite itself (<failure> or <error> directly inside)
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "failure", "error":
				msg, err := p.element(t)
				if err != nil {
					return err
				}
				own = append(own, Case{Suite: s.name, Status: Failed, Message: msg})
			default:
				if err := p.start(t); err != nil {
					return err
				}
			}
		case xml.EndElement:
			cur := p.suites[len(p.suites)-1]
			p.suites = p.suites[:len(p.suites)-1]
			cur.found += len(own)
			p.rep.Cases = append(p.rep.Cases, own...)
			if cur.found < cur.reported {
				// The suite counts failures no case of it shows (a
				// collection or setup error): it failed all the same.
				p.rep.Cases = append(p.rep.Cases, Case{Suite: cur.name, Status: Failed,
					Message: fmt.Sprintf("the suite reports %d failures and errors, %d failing test cases", cur.reported, cur.found)})
				cur.found = cur.reported
			}
			if n := len(p.suites); n > 0 {
				p.suites[n-1].found += cur.found
			}
			return nil
		}
	}
}

func (p *junitParser) testcase(t xml.StartElement) error {
	c := Case{Name: attr(t, "name"), File: attr(t, "file"), Status: Passed}
	if c.Name == "" {
		return p.errorf("<testcase> has no name attribute; every JUnit test case is named")
	}
	c.Suite = attr(t, "classname")
	if c.Suite == "" || c.Suite == c.Name {
		c.Suite = ""
		if n := len(p.suites); n > 0 {
			c.Suite = p.suites[n-1].name
		}
	}
	if l := attr(t, "line"); l != "" {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 0 {
			return p.errorf("<testcase name=%q> has line=%q, not a line number", c.Name, l)
		}
		c.Line = n
		if n := len(p.suites); n > 0 && p.suites[0].name == "pytest" {
			c.Line++ // pytest writes 0-based line numbers (its "pytest" suite)
		}
	}
	if status := attr(t, "status"); status == "notrun" || status == "disabled" {
		c.Status = Skipped // ctest: not run, whether or not <skipped> follows
	}
	var out string
	for {
		tok, err := p.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var to Status
			switch t.Name.Local {
			case "failure", "error", "rerunFailure", "rerunError":
				to = Failed
			case "flakyFailure", "flakyError":
				to = Warned
			case "skipped":
				to = Skipped
			case "system-out", "system-err":
				// ctest's failure says nothing; its output does.
				if out, err = p.element(t); err != nil {
					return err
				}
				continue
			default:
				if err := p.skip(); err != nil {
					return err
				}
				continue
			}
			msg, err := p.element(t)
			if err != nil {
				return err
			}
			if rank(to) > rank(c.Status) {
				c.Status, c.Message = to, msg
			}
		case xml.EndElement:
			if c.Status == Failed && c.Message == "" {
				c.Message = out
			}
			if c.Status == Failed && len(p.suites) > 0 {
				p.suites[len(p.suites)-1].found++
			}
			p.rep.Cases = append(p.rep.Cases, c)
			return nil
		}
	}
}

// rank orders statuses: a case has the worst status any of its elements
// gives it.
func rank(s Status) int {
	switch s {
	case Failed:
		return 3
	case Warned:
		return 2
	case Skipped:
		return 1
	}
	return 0
}

// element reads a <failure>, <error> or <skipped> element and returns its
// message: the message attribute, then the text.
func (p *junitParser) element(t xml.StartElement) (string, error) {
	p.text.Reset()
	if m := attr(t, "message"); m != "" {
		p.text.Write([]byte(m))
		p.text.Write([]byte("\n"))
	}
	depth := 1
	for depth > 0 {
		tok, err := p.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			p.text.Write(t)
		}
	}
	return message(p.text.String()), nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (p *junitParser) errorf(format string, a ...any) error {
	line, col := p.d.InputPos()
	return &ParseError{File: p.name, Line: line, Column: col, Offset: p.d.InputOffset(), Msg: fmt.Sprintf(format, a...)}
}

func (p *junitParser) syntax(err error) error {
	var se *xml.SyntaxError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Msg
		if se.Msg == "unexpected EOF" {
			msg = "unexpected end of file: the report is truncated; write it again, completely"
		}
	}
	return p.errorf("XML: %s", msg)
}
