package ghreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/verify"
)

// MaxReportSize bounds a verify report read from a file.
const MaxReportSize = 16 << 20

// ParseVerifyReport reads slipway verify's JSON report (verify --json, or
// its report input) named name for errors. It checks what the reporter
// relies on: every check has a name and a known status.
func ParseVerifyReport(name string, data []byte) (*verify.Report, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var r verify.Report
	if err := dec.Decode(&r); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("%s: byte %d: not a slipway verify JSON report: %v; give the file slipway verify --json or its report input wrote", name, se.Offset, err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s: field %q: %v; give the file slipway verify --json or its report input wrote", name, te.Field, err)
		}
		return nil, fmt.Errorf("%s: not a slipway verify JSON report: %v; give the file slipway verify --json or its report input wrote", name, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more than one JSON value; give one slipway verify report", name)
	}
	if r.Subjects == nil {
		return nil, fmt.Errorf("%s: field \"subjects\" is missing; is this a slipway verify --json report?", name)
	}
	for i, s := range r.Subjects {
		if s == nil {
			return nil, fmt.Errorf("%s: subjects[%d] is null; give the report as slipway verify wrote it", name, i)
		}
		for j, c := range s.Checks {
			if c.Check == "" {
				return nil, fmt.Errorf("%s: subjects[%d].checks[%d].check is empty; give the report as slipway verify wrote it", name, i, j)
			}
			if !slices.Contains([]verify.Status{verify.Pass, verify.Fail, verify.Error}, c.Status) {
				return nil, fmt.Errorf("%s: subjects[%d].checks[%d].status is %q, not pass, fail or error; give the report as slipway verify wrote it", name, i, j, c.Status)
			}
		}
	}
	return &r, nil
}

// ReadVerifyReport reads and parses the report at path.
func ReadVerifyReport(path string) (*verify.Report, error) {
	data, err := regfile.ReadAll(path, MaxReportSize)
	if err != nil {
		return nil, err
	}
	return ParseVerifyReport(path, data)
}

// Log excerpt bounds: the last MaxLogLines lines within the last
// MaxLogBytes bytes of the log.
const (
	MaxLogBytes = 16 << 10
	MaxLogLines = 120
)

var ansi = lazyregexp.New(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// ReadLogTail reads the end of the log at path: whole lines, without
// terminal colours, not masked (Mask does that before anything is sent).
func ReadLogTail(path string) (string, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading log %q: %w", path, err)
	}
	off := max(fi.Size()-MaxLogBytes, 0)
	buf := make([]byte, MaxLogBytes)
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading log %q: %w", path, err)
	}
	return tail(buf[:n], off > 0), nil
}

// tail keeps the last MaxLogLines whole lines of b (its first line is cut
// when cut says b starts inside one), valid UTF-8, without colours.
func tail(b []byte, cut bool) string {
	if cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	s := strings.ToValidUTF8(ansi.ReplaceAllString(string(b), ""), "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > MaxLogLines {
		lines = lines[len(lines)-MaxLogLines:]
	}
	return strings.Join(lines, "\n")
}
