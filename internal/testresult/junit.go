package testresult

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// junitSuite is an open <testsuite>: its name and the failures and errors
// its attributes report, and how many failing cases were seen inside it.
type junitSuite struct {
	name            string
	reported, found int
}

// junitParser reads JUnit XML: a <testsuites> or <testsuite> root, suites
// nested in suites, <testcase> with <failure>, <error>, <skipped> and
// Surefire's <flakyFailure>, <flakyError>, <rerunFailure>, <rerunError>.
type junitParser struct {
	name   string
	s      *xmlScanner
	rep    *Report
	suites []junitSuite
	// class is the last classname read without entities: the cases of a
	// suite share it, and so share one string.
	class string
}

// parseJUnit reads a JUnit report, with room for cases test cases made up
// front (0 for none).
func parseJUnit(name string, r *bufio.Reader, cases int) (*Report, error) {
	p := &junitParser{name: name, s: newXMLScanner(r), rep: &Report{Format: JUnit}}
	if cases > 0 {
		p.rep.Cases = make([]Case, 0, cases)
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == xmlEOF || (t.name != "testsuites" && t.name != "testsuite") {
		return nil, p.errorf("the root element is <%s>, not <testsuites> or <testsuite>: not a JUnit report", t.name)
	}
	if t.name == "testsuites" {
		err = p.children(func(t *xmlToken) error { return p.start(t) })
	} else {
		err = p.suite(t)
	}
	if err != nil {
		return nil, err
	}
	if t, err = p.next(); err != nil {
		return nil, err
	}
	if t.kind != xmlEOF {
		return nil, p.errorf("a second root element <%s>", t.name)
	}
	return p.rep, nil
}

// next is the next token; a scanner error becomes a ParseError.
func (p *junitParser) next() (*xmlToken, error) {
	t, err := p.s.next()
	if err != nil {
		var xe *xmlError
		if errors.As(err, &xe) {
			return nil, &ParseError{File: p.name, Line: xe.line, Column: xe.col, Offset: xe.off, Msg: "XML: " + xe.msg}
		}
		return nil, fmt.Errorf("reading %s: %w", p.name, err)
	}
	return t, nil
}

// children calls f for each child element of the element just started
// and returns at its end.
func (p *junitParser) children(f func(*xmlToken) error) error {
	for {
		t, err := p.next()
		if err != nil {
			return err
		}
		if t.kind == xmlEnd {
			return nil
		}
		if err := f(t); err != nil {
			return err
		}
	}
}

// skip reads the element just started up to its end.
func (p *junitParser) skip() error {
	return p.children(func(*xmlToken) error { return p.skip() })
}

// start handles an element below the root, up to its end.
func (p *junitParser) start(t *xmlToken) error {
	switch t.name {
	case "testsuite":
		return p.suite(t)
	case "testcase":
		return p.testcase(t)
	}
	return p.skip()
}

func (p *junitParser) suite(t *xmlToken) error {
	s := junitSuite{name: t.attr("name")}
	if s.name == "(empty)" {
		s.name = "" // ctest's name for a build without a name
	}
	for _, a := range []string{"failures", "errors"} {
		v := t.attr(a)
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
	err := p.children(func(t *xmlToken) error {
		switch t.name {
		case "failure", "error":
			msg, err := p.element(t)
			if err != nil {
				return err
			}
			own = append(own, Case{Suite: s.name, Status: Failed, Message: msg})
			return nil
		}
		return p.start(t)
	})
	if err != nil {
		return err
	}
	cur := p.suites[len(p.suites)-1]
	p.suites = p.suites[:len(p.suites)-1]
	cur.found += len(own)
	p.rep.Cases = append(p.rep.Cases, own...)
	if cur.found < cur.reported {
		// The suite counts failures no case of it shows (a collection or
		// setup error): it failed all the same.
		p.rep.Cases = append(p.rep.Cases, Case{Suite: cur.name, Status: Failed,
			Message: fmt.Sprintf("the suite reports %d failures and errors, %d failing test cases", cur.reported, cur.found)})
		cur.found = cur.reported
	}
	if n := len(p.suites); n > 0 {
		p.suites[n-1].found += cur.found
	}
	return nil
}

func (p *junitParser) testcase(t *xmlToken) error {
	c := Case{Name: t.attr("name"), File: t.attr("file"), Status: Passed}
	if c.Name == "" {
		return p.errorf("<testcase> has no name attribute; every JUnit test case is named")
	}
	c.Suite = p.classname(t)
	if c.Suite == "" || c.Suite == c.Name {
		c.Suite = ""
		if n := len(p.suites); n > 0 {
			c.Suite = p.suites[n-1].name
		}
	}
	if l := t.attr("line"); l != "" {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 0 {
			return p.errorf("<testcase name=%q> has line=%q, not a line number", c.Name, l)
		}
		c.Line = n
		if n := len(p.suites); n > 0 && p.suites[0].name == "pytest" {
			c.Line++ // pytest writes 0-based line numbers (its "pytest" suite)
		}
	}
	if status := t.attr("status"); status == "notrun" || status == "disabled" {
		c.Status = Skipped // ctest: not run, whether or not <skipped> follows
	}
	var out string
	err := p.children(func(t *xmlToken) error {
		var to Status
		switch t.name {
		case "failure", "error", "rerunFailure", "rerunError":
			to = Failed
		case "flakyFailure", "flakyError":
			to = Warned
		case "skipped":
			to = Skipped
		case "system-out", "system-err":
			// ctest's failure says nothing; its output does.
			var err error
			out, err = p.element(t)
			return err
		default:
			return p.skip()
		}
		msg, err := p.element(t)
		if err != nil {
			return err
		}
		if rank(to) > rank(c.Status) {
			c.Status, c.Message = to, msg
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.Status == Failed && c.Message == "" {
		c.Message = out
	}
	if c.Status == Failed && len(p.suites) > 0 {
		p.suites[len(p.suites)-1].found++
	}
	p.rep.Cases = append(p.rep.Cases, c)
	return nil
}

// classname is the case's classname attribute, the string of the case
// before it when the bytes are the same and hold no entity (so decode to
// themselves).
func (p *junitParser) classname(t *xmlToken) string {
	raw, ok := t.rawAttr("classname")
	switch {
	case !ok:
		return ""
	case string(raw) == p.class:
		return p.class
	}
	v := unescapeXML(string(raw))
	if !bytes.ContainsAny(raw, "&\r") {
		p.class = v
	}
	return v
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

// element reads a <failure>, <error>, <skipped> or output element just
// started and returns its message: the message attribute, then the text.
func (p *junitParser) element(t *xmlToken) (string, error) {
	head := ""
	if m := t.attr("message"); m != "" {
		head = m + "\n"
	}
	p.s.startCapture()
	err := p.skip()
	text := p.s.stopCapture()
	if err != nil {
		return "", err
	}
	return message(head + text), nil
}

func (p *junitParser) errorf(format string, a ...any) error {
	return &ParseError{File: p.name, Line: p.s.line, Column: int(p.s.off-p.s.lineOff) + 1, Offset: p.s.off, Msg: fmt.Sprintf(format, a...)}
}
