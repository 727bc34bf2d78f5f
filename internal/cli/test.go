package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testresult"
	"github.com/slipway/actions/internal/testrun"
)

// testCommand is the test stage: options → signer → testrun.Run →
// outputs, annotations and summary. Key inputs are named as in attest.
type testCommand struct {
	net                             netFlags
	command, manifest, bundle, form string
	results, passEnv                []string
	allowFailure                    bool

	sigstore signing.Config
}

func (c *testCommand) Name() string { return "test" }
func (c *testCommand) Short() string {
	return "Run the tests in the build's controlled environment (or collect the results an earlier step wrote), read JUnit XML, go test -json or TAP, and attest the result about every artifact of the manifest as a signed in-toto test-result statement."
}

func (c *testCommand) Inputs() []input.Input {
	return append(c.stageInputs(), c.net.inputs()...)
}

func (c *testCommand) stageInputs() []input.Input {
	ins := []input.Input{
		input.String(&c.command, input.Spec{Name: "command",
			Description: "The test command, run in the workspace with bash -e -o pipefail -c (or sh -e -c), a fresh TMPDIR and only safe environment variables, as build runs its command; empty to only collect results an earlier step wrote."}),
		input.List(&c.results, input.Spec{Name: "results",
			Description: "Globs of the result files (JUnit XML, go test -json output, TAP) relative to the workspace; empty with command: the command's standard output is the result stream, kept as MANIFEST-BASE.test-output next to the manifest."}),
		input.String(&c.form, input.Spec{Name: "format", Default: string(testresult.Auto),
			Description: "Format of the result files: junit, gotest (go test -json), tap, or auto (each file's, by its content)."}),
		input.String(&c.manifest, input.Spec{Name: "manifest", Required: true,
			Description: "The build manifest: its artifacts are the statement's subjects, its build record names the commit, and the bundle is recorded in it (role attestation)."}),
		input.String(&c.bundle, input.Spec{Name: "bundle",
			Description: "Where to write the bundle; by default MANIFEST-BASE.test-result.sigstore.json next to the manifest (dist/manifest.test-result.sigstore.json)."}),
		input.List(&c.passEnv, input.Spec{Name: "pass-env",
			Description: "Names of environment variables to pass to the test command besides PATH, HOME, locale, toolchain settings and GitHub context; secrets reach it only when named here."}),
		input.Bool(&c.allowFailure, input.Spec{Name: "allow-failure", Default: "false",
			Description: "Only record a failed run: the attestation says FAILED and the step succeeds. By default a failed run fails the step (after the attestation is written and recorded)."}),
	}
	return append(ins, signerInputs(&c.sigstore)...)
}

func (c *testCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "result", Description: "PASSED, WARNED (a test passed with a warning: a TAP TODO, a flaky Surefire test) or FAILED."},
		{Name: "passed", Description: "Number of tests that passed."},
		{Name: "failed", Description: "Number of tests that failed (a failing command with no failed test counts as one)."},
		{Name: "skipped", Description: "Number of tests skipped."},
		{Name: "attestation", Description: "Path of the test-result bundle written and recorded in the manifest."},
	}
}

func (c *testCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if err := rt.checkInside("manifest", c.manifest, "bundle", c.bundle); err != nil {
		return err
	}
	format, err := testresult.ParseFormat(c.form)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"format\": %w", err))
	}
	if !c.sigstore.Enabled() {
		return exitcode.BadInputf("no signing key: set key (a cosign key file or KMS URI), the %s secret (cosign-key) or keyless: true", signing.KeyEnv)
	}
	if err := c.sigstore.Validate(); err != nil {
		return err
	}
	maskKeyEnv(rt, c.sigstore)
	env := signingEnv(rt)
	// The key is decrypted (or the certificate fetched) while the tests
	// run; a key that fails to load stops them.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	signer := signing.Start(ctx, c.sigstore.Options(env, c.sigstore.Tokens(env)), cancel)
	res, err := testrun.Run(ctx, testrun.Options{
		Workspace: rt.Dir, Command: c.command, Results: c.results, Format: format, PassEnv: c.passEnv,
		Manifest: c.manifest, Bundle: c.bundle, Signer: signer,
		Getenv: rt.Getenv, Now: rt.Now, Output: rt.Stderr, Group: rt.Report.Group, Log: rt.Log,
	})
	if err != nil {
		return err
	}
	if err := c.report(rt, res); err != nil {
		return err
	}
	if res.Result == testrun.ResultFailed && !c.allowFailure {
		return exitcode.Failuref("%d test(s) failed (%s); the failed result is attested in %s. Fix them, or set allow-failure to only record the result",
			res.Failed, firstNames(res.Failures, 3), res.Attestation.BundlePath)
	}
	return nil
}

// report writes the outputs, an annotation per failed test that has a
// location, and the summary with a table of the failures.
func (c *testCommand) report(rt *Runtime, res *testrun.Result) error {
	for _, kv := range [][2]string{
		{"result", res.Result}, {"passed", strconv.Itoa(res.Passed)}, {"failed", strconv.Itoa(res.Failed)},
		{"skipped", strconv.Itoa(res.Skipped)}, {"attestation", res.Attestation.BundlePath},
	} {
		if err := rt.Output(kv[0], kv[1]); err != nil {
			return err
		}
	}
	for i, f := range res.Failures {
		if i == maxAnnotations {
			break
		}
		if f.File != "" {
			rt.Report.ErrorAt("test failed: "+f.FullName(), firstLine(f.Message), action.Location{File: f.File, Line: f.Line})
		}
	}
	return rt.Report.Summary(testSummary(res))
}

// maxAnnotations bounds the error annotations (GitHub shows 10 per step).
const maxAnnotations = 10

func testSummary(res *testrun.Result) action.Summary {
	s := action.Summary{Title: "Tests: " + res.Result}
	s.Notes = append(s.Notes, fmt.Sprintf("%d passed, %d failed, %d skipped, %d warned.", res.Passed, res.Failed, res.Skipped, res.Warned))
	if res.Exit != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("The test command exited with status %d.", res.Exit.Code))
	}
	for _, f := range res.Files {
		s.Rows = append(s.Rows, action.Row{Name: f.Path, Role: "results (" + string(f.Format) + ")", Digest: f.Digest, Size: -1})
	}
	a := res.Attestation
	s.Rows = append(s.Rows, action.Row{Name: a.BundlePath, Role: "attestation", Digest: a.BundleDigest.String(), Size: a.BundleSize})
	if len(res.Failures) > 0 {
		s.Table = &action.Table{Title: "Failed tests", Header: []string{"Test", "Where", "Message"}}
		for i, f := range res.Failures {
			if i == maxSummaryFailures {
				s.Notes = append(s.Notes, fmt.Sprintf("… and %d more failed tests (all are named in the attestation).", len(res.Failures)-i))
				break
			}
			where := ""
			if f.File != "" {
				where = action.Location{File: f.File, Line: f.Line}.String()
			}
			s.Table.Rows = append(s.Table.Rows, []string{f.FullName(), where, clipText(firstLine(f.Message), 200)})
		}
	}
	return s
}

// maxSummaryFailures bounds the failures listed in the summary.
const maxSummaryFailures = 50

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func firstNames(cs []testresult.Case, n int) string {
	var names []string
	for i, c := range cs {
		if i == n {
			names = append(names, fmt.Sprintf("and %d more", len(cs)-n))
			break
		}
		names = append(names, c.FullName())
	}
	return strings.Join(names, ", ")
}
