package testresult

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Status is the outcome of one test case.
type Status string

// The statuses, as the in-toto test-result predicate groups tests: warned
// is a test that passed with a warning (a TAP TODO test that failed as
// expected, a Surefire test that passed on a rerun).
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	Warned  Status = "warned"
)

// Format is a result file format.
type Format string

// The formats read. Auto detects the format from the first bytes.
const (
	Auto   Format = "auto"
	JUnit  Format = "junit"
	GoTest Format = "gotest"
	TAP    Format = "tap"
)

// ParseFormat parses the format input; empty means Auto.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return Auto, nil
	case Auto, JUnit, GoTest, TAP:
		return f, nil
	}
	return "", fmt.Errorf("format %q is not known; use junit, gotest, tap or auto", s)
}

// maxMessage bounds a case's failure message: enough for an annotation.
const maxMessage = 4 << 10

// Case is one test case.
type Case struct {
	// Suite is what groups the test: the JUnit classname (or the suite's
	// name), the Go package, the TAP file. Empty for none.
	Suite string `json:"suite,omitempty"`
	// Name is the test's name; empty for a failure of the suite itself
	// (a Go package that did not build, a TAP stream that bailed out).
	Name   string `json:"name,omitempty"`
	Status Status `json:"status"`
	// Message says why a test failed, was skipped or warned (bounded).
	Message string `json:"message,omitempty"`
	// File and Line locate the failure when the report says where.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// FullName is the test's name as the test-result predicate lists it:
// "<suite>/<name>", or whichever of the two is set.
func (c Case) FullName() string {
	switch {
	case c.Suite == "" && c.Name == "":
		return "(unnamed suite)"
	case c.Suite == "":
		return c.Name
	case c.Name == "":
		return c.Suite
	}
	return c.Suite + "/" + c.Name
}

// Report is what one result file holds.
type Report struct {
	Format Format `json:"format"`
	Cases  []Case `json:"cases"`
}

// ParseError is malformed or truncated input, at a position in the file.
type ParseError struct {
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Offset is the byte offset; -1 when unknown.
	Offset int64
	Msg    string
}

func (e *ParseError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			pos += fmt.Sprintf(":%d", e.Column)
		}
	} else if e.Offset >= 0 {
		pos += fmt.Sprintf(" (byte %d)", e.Offset)
	}
	return pos + ": " + e.Msg
}

// Parse reads one result file named name (for errors) in format f; Auto
// detects the format from the first bytes.
func Parse(name string, r io.Reader, f Format) (*Report, error) {
	return ParseSized(name, r, f, 0)
}

// ParseSized is Parse with room made up front for cases test cases (what
// CountCases found in a first pass over the same file), so that a large
// JUnit report's list is allocated once instead of grown a dozen times. The
// count only sizes the list: a wrong one costs memory, never a case.
func ParseSized(name string, r io.Reader, f Format, cases int) (*Report, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if f == Auto || f == "" {
		var err error
		if f, err = detect(name, br); err != nil {
			return nil, err
		}
	}
	switch f {
	case JUnit:
		return parseJUnit(name, br, min(max(cases, 0), maxSized))
	case GoTest:
		return parseGoTest(name, br)
	case TAP:
		return parseTAP(name, br)
	}
	return nil, fmt.Errorf("format %q is not known; use junit, gotest, tap or auto", f)
}

// maxSized bounds the room ParseSized makes (17 MiB of cases): a file of
// nothing but "<testcase" must not allocate ten times its size up front.
const maxSized = 200_000

// caseTag starts every JUnit test case.
const caseTag = "<testcase"

// CountCases reads r to its end and counts the JUnit test cases it can
// hold (the "<testcase" in it, also those inside comments or CDATA, so an
// upper bound): the count ParseSized takes, found by a pass over a file
// that is several times cheaper than parsing it. Other formats count 0.
func CountCases(r io.Reader) (int, error) {
	buf := make([]byte, 32<<10)
	n, keep := 0, 0
	for {
		m, err := r.Read(buf[keep:])
		data := buf[:keep+m]
		n += bytes.Count(data, []byte(caseTag))
		// The tail that could begin a tag split across two reads (too
		// short to hold a whole one, so never counted twice).
		keep = min(len(caseTag)-1, len(data))
		copy(buf, data[len(data)-keep:])
		switch err {
		case nil:
		case io.EOF:
			return n, nil
		default:
			return n, err
		}
	}
}

// detect tells the format from the first non-blank bytes: "<" is XML
// (JUnit), "{" a test2json event, and a TAP version, plan or test line TAP.
func detect(name string, br *bufio.Reader) (Format, error) {
	head, err := br.Peek(4096)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(t) == 0:
		return "", &ParseError{File: name, Offset: int64(len(head)), Msg: "the file is empty: no test results; check that the test tool wrote its report here"}
	case t[0] == '<':
		return JUnit, nil
	case t[0] == '{':
		return GoTest, nil
	case bytes.HasPrefix(t, []byte("TAP version")) || bytes.HasPrefix(t, []byte("1..")) ||
		bytes.HasPrefix(t, []byte("ok")) || bytes.HasPrefix(t, []byte("not ok")) || t[0] == '#':
		return TAP, nil
	}
	line, _, _ := bytes.Cut(t, []byte("\n"))
	if len(line) > 60 {
		line = line[:60]
	}
	return "", &ParseError{File: name, Offset: int64(len(head) - len(t)), Msg: fmt.Sprintf("cannot tell the format from %q: not JUnit XML, go test -json or TAP; set format to say which", line)}
}

// message bounds s for Case.Message.
func message(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + " …"
}

// boundedText collects text up to maxMessage bytes and drops the rest.
type boundedText struct {
	b strings.Builder
}

func (t *boundedText) Write(p []byte) {
	if room := maxMessage + 1 - t.b.Len(); room > 0 {
		if len(p) > room {
			p = p[:room]
		}
		t.b.Write(p)
	}
}

func (t *boundedText) String() string { return t.b.String() }
func (t *boundedText) Reset()         { t.b.Reset() }
