package testrun

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/fileset"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/testresult"
)

// collect reads every result file (the saved standard output, or the files
// the globs select), hashing each in the same pass, and returns their
// cases; a command that failed without a failing case adds one for itself.
func (o *Options) collect(ctx context.Context, res *Result, stdout string, started time.Time) ([]testresult.Case, error) {
	var files []fileset.File
	if stdout != "" {
		rel := o.rel(stdout)
		files = []fileset.File{{Name: rel, Open: rel}}
	} else {
		pats, err := fileset.Parse(o.Workspace, o.Results)
		if err != nil {
			return nil, o.resultsError(err)
		}
		if files, err = fileset.Resolve(ctx, o.Workspace, pats, fileset.Options{}); err != nil {
			return nil, o.resultsError(err)
		}
	}
	var cases []testresult.Case
	for _, f := range files {
		fc, file, err := o.read(f, res.Exit != nil, started.Unix())
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, file)
		if cases == nil {
			cases = fc // one file, as most runs have: no copy
		} else {
			cases = append(cases, fc...)
		}
	}
	if e := res.Exit; e != nil && !e.OK() && !anyFailed(cases) {
		how := fmt.Sprintf("the test command exited with status %d", e.Code)
		if e.Signal != "" {
			how = "the test command was killed by signal " + e.Signal
		}
		if e.Code == 127 {
			how += ": a program it runs was not found (its output names it)"
		}
		cases = append(cases, testresult.Case{Name: CommandCase, Status: testresult.Failed, Message: how + ", though no result names a failed test"})
	}
	if len(cases) == 0 {
		return nil, exitcode.BadInput(fmt.Errorf("%w in %d result file(s): a run without tests proves nothing; check that the tests ran and wrote their results where results points", errNoCases, len(files)))
	}
	return cases, nil
}

// CommandCase names the failure of a test command whose results name no
// failed test.
const CommandCase = "(test command)"

func anyFailed(cases []testresult.Case) bool {
	for _, c := range cases {
		if c.Status == testresult.Failed {
			return true
		}
	}
	return false
}

func (o *Options) resultsError(err error) error {
	if errors.Is(err, fileset.ErrInput) {
		return exitcode.BadInput(fmt.Errorf("input \"results\": %w", err))
	}
	return exitcode.Infra(fmt.Errorf("input \"results\": %w", err))
}

// read parses one result file, hashing it in the same pass. A file last
// written before the command started is refused: it holds an earlier run's
// results.
func (o *Options) read(f fileset.File, ranCommand bool, started int64) ([]testresult.Case, File, error) {
	file := File{Path: f.Name}
	r, err := regfile.Open(filepath.Join(o.Workspace, filepath.FromSlash(f.Open)))
	if err != nil {
		return nil, file, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("reading test results: %w", err)), f.Name)
	}
	defer r.Close()
	if fi, err := r.Stat(); err == nil && ranCommand && fi.ModTime().Unix() < started {
		return nil, file, exitcode.WithFile(exitcode.BadInputf("test results %q were written before the test command started: they are an earlier run's; delete them before the run, or point results at the files this command writes", f.Name), f.Name)
	}
	// A first pass counts the cases, to allocate their list once; the
	// second parses and hashes the same bytes, so the digest is of what
	// was parsed.
	n := 0
	if o.Format == testresult.Auto || o.Format == testresult.JUnit || o.Format == "" {
		if n, err = testresult.CountCases(r); err == nil {
			_, err = r.Seek(0, io.SeekStart)
		}
		if err != nil {
			return nil, file, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading test results %q: %w", f.Name, err)), f.Name)
		}
	}
	h := sha256.New()
	rep, err := testresult.ParseSized(f.Name, io.TeeReader(r, h), o.Format, n)
	if err != nil {
		var pe *testresult.ParseError
		if errors.As(err, &pe) {
			return nil, file, exitcode.WithFile(exitcode.BadInput(err), f.Name)
		}
		return nil, file, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading test results %q: %w", f.Name, err)), f.Name)
	}
	// What the parser left unread (trailing output after a TAP bail-out)
	// is part of the file all the same.
	if _, err := io.Copy(h, r); err != nil {
		return nil, file, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading test results %q: %w", f.Name, err)), f.Name)
	}
	file.Digest = digest.SHA256(h.Sum(nil)).String()
	file.Format, file.Cases = rep.Format, len(rep.Cases)
	o.Log.Info("read test results", "file", f.Name, "format", rep.Format, "cases", len(rep.Cases))
	return rep.Cases, file, nil
}
