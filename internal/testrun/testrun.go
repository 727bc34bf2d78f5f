package testrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testresult"
)

// PredicateType is the in-toto test-result predicate's type.
const PredicateType = "https://in-toto.io/attestation/test-result/v0.1"

// BundleName names the bundle: attest.PredicateBundle(manifest, BundleName).
const BundleName = "test-result"

// The results, as the predicate states them.
const (
	ResultPassed = "PASSED"
	ResultWarned = "WARNED"
	ResultFailed = "FAILED"
)

// stopGrace is how long a cancelled test command gets between SIGTERM and
// SIGKILL.
const stopGrace = 10 * time.Second

// Options configures one run of the stage.
type Options struct {
	// Workspace is the directory the command runs in; relative paths are
	// relative to it.
	Workspace string
	// Command is the test command (run with bash -e -o pipefail -c, or sh
	// -e -c); empty to only collect Results.
	Command string
	// Results are globs of the result files, relative to the workspace.
	// Empty with a Command: the command's standard output is the result
	// stream (go test -json, TAP), saved as OutputFile(Manifest).
	Results []string
	// Format of the result files; Auto detects each file's.
	Format testresult.Format
	// PassEnv names variables passed to the command besides the allowed
	// ones (execenv.Allowed).
	PassEnv []string
	// Manifest is the build manifest: its artifacts are the subjects.
	Manifest string
	// Bundle overrides the bundle path.
	Bundle string
	// Signer signs the statement. Required.
	Signer attest.Signer
	// Getenv reads the environment the command's is made from.
	Getenv func(string) string
	// Now is the clock.
	Now func() time.Time
	// Output receives the command's output.
	Output io.Writer
	// Group starts a log section; nil for none.
	Group func(title string) (end func())
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// File is one result file read.
type File struct {
	Path   string // workspace-relative, slash-separated
	Digest string // sha256:HEX
	Format testresult.Format
	Cases  int
}

// Result is what a run found and attested.
type Result struct {
	Result                          string
	Passed, Failed, Skipped, Warned int
	// Failures are the failed cases, in report order (with a location when
	// the report gave one).
	Failures []testresult.Case
	Files    []File
	// Exit is how the command ended; nil without a command.
	Exit *execenv.Exit
	// Attestation is the signed statement and its manifest records.
	Attestation *attest.PredicateResult
}

func (o *Options) validate() error {
	switch {
	case o.Signer == nil:
		return exitcode.Infraf("testrun: no signer (internal error)")
	case o.Manifest == "":
		return exitcode.BadInputf("no manifest; give the manifest written by \"slipway build\": the test results are attested about its artifacts")
	case o.Command == "" && len(o.Results) == 0:
		return exitcode.BadInputf("nothing to do: set command (the tests to run) or results (the result files an earlier step wrote), or both")
	}
	if err := execenv.CheckNames(o.PassEnv); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"pass-env\": %w", err))
	}
	return nil
}

// Run runs the tests (when there is a command), reads the results, and
// signs and records the test-result statement. A run whose tests failed
// is a Result with Result FAILED, not an error: the caller decides.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Group == nil {
		o.Group = func(string) func() { return func() {} }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m, err := o.readManifest()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	started := o.Now()
	var stdout string // the file that holds the command's standard output
	if o.Command != "" {
		exit, out, err := o.runCommand(ctx)
		if err != nil {
			return nil, err
		}
		res.Exit, stdout = &exit, out
	}
	cases, err := o.collect(ctx, res, stdout, started)
	if err != nil {
		return nil, err
	}
	res.tally(cases)
	size, appendPred, err := o.predicate(m, res, cases)
	if err != nil {
		return nil, err
	}
	res.Attestation, err = attest.Predicate(ctx, attest.PredicateOptions{
		Dir: o.Workspace, Manifest: o.Manifest, PredicateType: PredicateType, AppendPredicate: appendPred, PredicateSize: size,
		Name: BundleName, Bundle: o.Bundle, Signer: o.Signer, Log: o.Log,
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (o *Options) readManifest() (*artifact.Manifest, error) {
	m, err := artifact.ReadManifest(o.abs(o.Manifest))
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%w; give the manifest written by \"slipway build\"", err)), o.Manifest)
	}
	if len(m.Subjects()) == 0 {
		return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q lists no artifacts; run \"slipway build\" with artifacts first: test results are attested about them", o.Manifest), o.Manifest)
	}
	return m, nil
}

// tally counts the cases and decides the result: FAILED when a test or the
// command failed, WARNED when a test warned, else PASSED.
func (r *Result) tally(cases []testresult.Case) {
	for _, c := range cases {
		switch c.Status {
		case testresult.Passed:
			r.Passed++
		case testresult.Failed:
			r.Failed++
			r.Failures = append(r.Failures, c)
		case testresult.Skipped:
			r.Skipped++
		case testresult.Warned:
			r.Warned++
		}
	}
	switch {
	case r.Failed > 0:
		r.Result = ResultFailed
	case r.Warned > 0:
		r.Result = ResultWarned
	default:
		r.Result = ResultPassed
	}
}

// errNoCases is the error of a run whose result files hold no test case.
var errNoCases = errors.New("no test cases")
