package testresult

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
)

// goEvent is one test2json event (go doc test2json).
type goEvent struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail (Go 1.24+)
	FailedBuild string // a package's fail event when its test binary did not build
}

type goTest struct {
	out  boundedText
	done bool
}

type goPackage struct {
	tests  map[string]*goTest
	order  []string
	out    boundedText // package-level output (a panic outside a test, FAIL lines)
	failed bool        // a test of it failed
	done   bool
	line   int // where it started, for a truncated stream
}

// goParser reads the go test -json stream: events of several packages and
// parallel tests interleaved, each ending with pass, fail or skip.
type goParser struct {
	name     string
	rep      *Report
	pkgs     map[string]*goPackage
	order    []string
	buildOut map[string]*boundedText // by import path
}

// maxLine bounds one event line: test2json splits long output lines.
const maxLine = 16 << 20

func parseGoTest(name string, r io.Reader) (*Report, error) {
	p := &goParser{name: name, rep: &Report{Format: GoTest}, pkgs: map[string]*goPackage{}, buildOut: map[string]*boundedText{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	line := 0
	var offset int64
	events := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		start := offset
		offset += int64(len(b)) + 1
		t := bytes.TrimSpace(b)
		if len(t) == 0 {
			continue
		}
		if t[0] != '{' {
			return nil, &ParseError{File: name, Line: line, Column: 1, Offset: start, Msg: fmt.Sprintf("%q is not a test2json event; write only go test -json's standard output here (not its standard error, no other output)", clip(t))}
		}
		var ev goEvent
		if err := json.Unmarshal(t, &ev); err != nil {
			msg := fmt.Sprintf("not a test2json event: %v", err)
			if !json.Valid(t) && !bytes.HasSuffix(t, []byte("}")) {
				msg = "the event is cut off: the stream is truncated; run the tests again and keep go test -json's whole output"
			}
			return nil, &ParseError{File: name, Line: line, Column: 1, Offset: start, Msg: msg}
		}
		if ev.Action == "" {
			return nil, &ParseError{File: name, Line: line, Column: 1, Offset: start, Msg: "the event has no Action: not a test2json event"}
		}
		events++
		if err := p.event(ev, line, start); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{File: name, Line: line + 1, Offset: offset, Msg: fmt.Sprintf("reading the stream: %v", err)}
	}
	if events == 0 {
		return nil, &ParseError{File: name, Line: line, Offset: offset, Msg: "no test2json events: no test results; check that go test ran with -json and its output was saved here"}
	}
	for _, path := range p.order {
		if pk := p.pkgs[path]; !pk.done {
			return nil, &ParseError{File: name, Line: line, Offset: offset, Msg: fmt.Sprintf("the stream ends before package %q (started at line %d) reported pass, fail or skip: it is truncated; run the tests again and keep go test -json's whole output", path, pk.line)}
		}
	}
	return p.rep, nil
}

func (p *goParser) event(ev goEvent, line int, offset int64) error {
	switch ev.Action {
	case "build-output":
		b := p.buildOut[ev.ImportPath]
		if b == nil {
			b = &boundedText{}
			p.buildOut[ev.ImportPath] = b
		}
		b.Write([]byte(ev.Output))
		return nil
	case "build-fail":
		return nil // the package's own fail event (FailedBuild) follows
	}
	if ev.Package == "" {
		return &ParseError{File: p.name, Line: line, Column: 1, Offset: offset, Msg: fmt.Sprintf("the %q event names no Package: not a test2json event of go test", ev.Action)}
	}
	pk := p.pkgs[ev.Package]
	if pk == nil {
		pk = &goPackage{tests: map[string]*goTest{}, line: line}
		p.pkgs[ev.Package] = pk
		p.order = append(p.order, ev.Package)
	}
	if pk.done {
		return &ParseError{File: p.name, Line: line, Column: 1, Offset: offset, Msg: fmt.Sprintf("a %q event for package %q after it ended: two streams mixed up; keep one go test -json output per file", ev.Action, ev.Package)}
	}
	if ev.Test == "" {
		return p.packageEvent(pk, ev)
	}
	t := pk.tests[ev.Test]
	if t == nil {
		t = &goTest{}
		pk.tests[ev.Test] = t
		pk.order = append(pk.order, ev.Test)
	}
	switch ev.Action {
	case "output":
		if !t.done {
			t.out.Write([]byte(ev.Output))
		}
	case "pass", "fail", "skip":
		if t.done {
			return &ParseError{File: p.name, Line: line, Column: 1, Offset: offset, Msg: fmt.Sprintf("test %q of package %q ended twice", ev.Test, ev.Package)}
		}
		t.done = true
		c := Case{Suite: ev.Package, Name: ev.Test, Status: Passed}
		switch ev.Action {
		case "fail":
			c.Status, pk.failed = Failed, true
			c.Message, c.File, c.Line = goFailure(t.out.String())
		case "skip":
			c.Status = Skipped
			c.Message = goSkipReason(t.out.String())
		}
		t.out.Reset()
		p.rep.Cases = append(p.rep.Cases, c)
	}
	return nil
}

func (p *goParser) packageEvent(pk *goPackage, ev goEvent) error {
	switch ev.Action {
	case "output":
		pk.out.Write([]byte(ev.Output))
	case "pass", "fail", "skip":
		pk.done = true
		// Tests that never ended: the binary died under them (a panic,
		// a timeout, os.Exit).
		for _, name := range pk.order {
			if t := pk.tests[name]; !t.done {
				msg, file, line := goFailure(t.out.String() + pk.out.String())
				p.rep.Cases = append(p.rep.Cases, Case{Suite: ev.Package, Name: name, Status: Failed,
					Message: message("the test did not finish: the test binary ended under it\n" + msg), File: file, Line: line})
				pk.failed = true
			}
		}
		if ev.Action == "fail" && !pk.failed {
			msg := pk.out.String()
			if ev.FailedBuild != "" {
				if b := p.buildOut[ev.FailedBuild]; b != nil {
					msg = b.String() + msg
				}
			}
			c := Case{Suite: ev.Package, Status: Failed}
			c.Message, c.File, c.Line = goFailure(msg)
			if ev.FailedBuild != "" {
				c.Message = message("the package's tests did not build\n" + c.Message)
			}
			p.rep.Cases = append(p.rep.Cases, c)
		}
		pk.tests, pk.order = nil, nil
	}
	return nil
}

var (
	// goLoc is t.Error's location ("    x_test.go:12: message") or a
	// compiler's ("./x_test.go:12:3: message").
	goLoc = lazyregexp.New(`(?m)^\s*((?:[\w.\-]+/)*[\w.\-]+\.go):(\d+):(?:\d+:)? `)
	// goPanicLoc is a panic's first frame in a test file.
	goPanicLoc = lazyregexp.New(`(?m)^\t(\S+_test\.go):(\d+)`)
)

// goFailure is a failed test's message (its output without the framing
// "=== RUN" and "--- FAIL" lines) and the first location in it.
func goFailure(out string) (string, string, int) {
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- FAIL") || t == "FAIL" || t == "" {
			continue
		}
		kept = append(kept, l)
	}
	msg := message(strings.Join(kept, "\n"))
	m := goLoc.FindStringSubmatch(out)
	if m == nil {
		m = goPanicLoc.FindStringSubmatch(out)
	}
	if m == nil {
		return msg, "", 0
	}
	n, _ := strconv.Atoi(m[2])
	return msg, strings.TrimPrefix(m[1], "./"), n
}

// goSkipReason is what t.Skip printed.
func goSkipReason(out string) string {
	msg, _, _ := goFailure(strings.ReplaceAll(out, "--- SKIP", "=== SKIP"))
	return msg
}

// clip shortens a line for an error message.
func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
