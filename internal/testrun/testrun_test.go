package testrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
)

// TestCollect collects a pytest JUnit report (written by pytest 7.2.1, see
// ../testresult/testdata) without a command: FAILED, the counts, a
// statement about both artifacts naming the commit and the result file by
// its digest, the tests by status, and the bundle recorded in the manifest.
func TestCollect(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	report, err := os.ReadFile(filepath.Join("..", "testresult", "testdata", "pytest-xunit1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	w.file(t, "reports/junit.xml", string(report))
	o := w.options(t)
	o.Results = []string{"reports/*.xml"}
	o.Getenv = env(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "slipway-demo/hello", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2"})
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != ResultFailed || res.Passed != 2 || res.Failed != 2 || res.Skipped != 2 || res.Exit != nil {
		t.Errorf("result %s, passed %d, failed %d, skipped %d", res.Result, res.Passed, res.Failed, res.Skipped)
	}
	if len(res.Failures) != 2 || res.Failures[0].File != "test_sample.py" || res.Failures[0].Line != 6 {
		t.Errorf("failures = %+v", res.Failures)
	}
	a := res.Attestation
	if a.BundlePath != "dist/manifest.test-result.sigstore.json" || len(a.Records) != 2 {
		t.Fatalf("attestation = %+v", a)
	}
	st := w.readStatement(t, a.BundlePath)
	if st.PredicateType != PredicateType || len(st.Subject) != 2 || st.Subject[0].Digest["sha256"] != w.app.Digest.Hex() || st.Subject[1].Name != "dist/lib.so" {
		t.Errorf("statement subjects %+v, type %s", st.Subject, st.PredicateType)
	}
	p := st.Predicate
	sum := sha256.Sum256(report)
	if p.Result != "FAILED" || p.URL != "https://github.com/slipway-demo/hello/actions/runs/42/attempts/2" || len(p.Configuration) != 2 ||
		p.Configuration[0].Name != "commit" || p.Configuration[0].Digest["gitCommit"] != commit || p.Configuration[0].URI != "git+https://github.com/slipway-demo/hello@refs/heads/main" ||
		p.Configuration[1].Name != "reports/junit.xml" || p.Configuration[1].Digest["sha256"] != hex.EncodeToString(sum[:]) || p.Configuration[1].Annotations["format"] != "junit" {
		t.Errorf("predicate = %+v", p)
	}
	if !slices.Equal(p.FailedTests, []string{"test_sample/test_fails", "test_sample/test_error"}) ||
		!slices.Equal(p.PassedTests, []string{"test_sample/test_passes", "test_sample.TestGroup/test_in_class"}) ||
		!slices.Equal(p.SkippedTests, []string{"test_sample/test_skipped", "test_sample/test_xfail"}) || len(p.WarnedTests) != 0 {
		t.Errorf("tests: passed %q failed %q skipped %q warned %q", p.PassedTests, p.FailedTests, p.SkippedTests, p.WarnedTests)
	}
	m, err := artifact.ReadManifest(filepath.Join(w.dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if recs := m.ByRole(artifact.RoleAttestation); len(recs) != 2 || recs[0].Path != a.BundlePath || recs[1].Describes != w.lib.Digest {
		t.Errorf("attestation records = %+v", recs)
	}
}

// TestCommandOutput runs a command whose standard output is TAP: it is
// kept next to the manifest, read, and the command is named in the
// configuration; a TODO failure makes the run WARNED.
func TestCommandOutput(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	o := w.options(t)
	o.Command = `printf 'TAP version 13\n1..3\nok 1 - parses\nnot ok 2 - slow path # TODO tune\nok 3 - writes # SKIP no disk\n'; echo progress >&2`
	var out bytes.Buffer
	o.Output = &out
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != ResultWarned || res.Passed != 1 || res.Warned != 1 || res.Skipped != 1 || res.Exit == nil || !res.Exit.OK() {
		t.Errorf("result = %+v", res)
	}
	saved, err := os.ReadFile(filepath.Join(w.dir, "dist", "manifest.test-output"))
	if err != nil || !strings.HasPrefix(string(saved), "TAP version 13\n") || strings.Contains(string(saved), "progress") {
		t.Errorf("saved output %q, %v", saved, err)
	}
	if !strings.Contains(out.String(), "ok 1 - parses") || !strings.Contains(out.String(), "progress") {
		t.Errorf("the command's output did not reach Output: %q", out.String())
	}
	p := w.readStatement(t, res.Attestation.BundlePath).Predicate
	if p.Result != "WARNED" || p.Configuration[1].Name != "command" || p.Configuration[1].Content == "" ||
		p.Configuration[2].Name != "dist/manifest.test-output" || !slices.Equal(p.WarnedTests, []string{"dist/manifest.test-output/slow path"}) {
		t.Errorf("predicate = %+v", p)
	}
}

// TestCommandEnvironment: the command sees the allowed and named variables
// only, and a TMPDIR of its own that is gone afterwards.
func TestCommandEnvironment(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	o := w.options(t)
	o.Getenv = env(map[string]string{"PATH": os.Getenv("PATH"), "GITHUB_TOKEN": "ghs_secret", "AWS_SECRET_ACCESS_KEY": "aws", "NAMED_TOKEN": "given", "RANDOM_VAR": "x"})
	o.PassEnv = []string{"NAMED_TOKEN"}
	o.Command = `echo 1..4
[ -z "$GITHUB_TOKEN$AWS_SECRET_ACCESS_KEY$RANDOM_VAR" ] && echo "ok 1 - no secrets" || echo "not ok 1 - secrets leaked"
[ "$NAMED_TOKEN" = given ] && echo "ok 2 - named variable" || echo "not ok 2 - named variable"
case "$TMPDIR" in */slipway-test-*) echo "ok 3 - own TMPDIR";; *) echo "not ok 3 - TMPDIR $TMPDIR";; esac
echo "$TMPDIR" > tmpdir.txt; echo "ok 4 - wrote"`
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != ResultPassed || res.Passed != 4 {
		t.Fatalf("result %+v, failures %+v", res, res.Failures)
	}
	tmp, _ := os.ReadFile(filepath.Join(w.dir, "tmpdir.txt"))
	if _, err := os.Stat(strings.TrimSpace(string(tmp))); !os.IsNotExist(err) {
		t.Errorf("TMPDIR %q is still there", tmp)
	}
}

// TestCommandFailed: a command that fails while every result passed is a
// failed run, named as such; allow-failure is the caller's.
func TestCommandFailed(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	o := w.options(t)
	o.Command = `printf '1..1\nok 1 - fine\n'; exit 3`
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != ResultFailed || res.Failed != 1 || res.Exit.Code != 3 || res.Failures[0].Name != CommandCase ||
		!strings.Contains(res.Failures[0].Message, "exited with status 3") {
		t.Errorf("result = %+v", res)
	}
	p := w.readStatement(t, res.Attestation.BundlePath).Predicate
	if !slices.Equal(p.FailedTests, []string{CommandCase}) || p.Configuration[1].Annotations["exitCode"] != float64(3) {
		t.Errorf("predicate = %+v", p)
	}
}

// TestGoTest runs real go test -json in a module of the workspace: one
// passing and one failing test, whose location is the report's.
func TestGoTest(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.file(t, "go.mod", "module example.com/m\n\ngo 1.22\n")
	w.file(t, "m_test.go", "package m\n\nimport \"testing\"\n\nfunc TestOK(t *testing.T) {}\n\nfunc TestBad(t *testing.T) {\n\tt.Error(\"wrong\")\n}\n")
	o := w.options(t)
	vars := map[string]string{}
	for _, k := range []string{"PATH", "HOME", "GOCACHE", "GOPATH", "GOMODCACHE", "GOROOT"} {
		vars[k] = os.Getenv(k)
	}
	vars["GOFLAGS"], vars["GOTOOLCHAIN"] = "-mod=mod", "local"
	o.Getenv = env(vars)
	o.Command = "go test -json -count=1 ."
	o.Format = "gotest"
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != ResultFailed || res.Passed != 1 || res.Failed != 1 || res.Exit.Code != 1 {
		t.Fatalf("result = %+v", res)
	}
	if f := res.Failures[0]; f.FullName() != "example.com/m/TestBad" || f.File != "m_test.go" || f.Line != 8 || !strings.Contains(f.Message, "wrong") {
		t.Errorf("failure = %+v", f)
	}
}

// TestStaleResults: a result file older than the command is an earlier
// run's, refused.
func TestStaleResults(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	p := w.file(t, "out/results.tap", "1..1\nok 1 - old\n")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	o := w.options(t)
	o.Command, o.Results = "true", []string{"out/results.tap"}
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "before the test command started") || exitcode.FileOf(err) != "out/results.tap" {
		t.Errorf("Run() error = %v", err)
	}
}

// TestErrors: bad inputs and bad result files fail before anything is
// written, naming the file and position.
func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*workspace, *Options)
		file    string
		wantErr string
	}{
		{"nothing to do", func(w *workspace, o *Options) {}, "", "set command"},
		{"no manifest", func(w *workspace, o *Options) { o.Manifest, o.Results = "", []string{"x"} }, "", "no manifest"},
		{"missing manifest", func(w *workspace, o *Options) { o.Manifest, o.Results = "nope.json", []string{"x"} }, "nope.json", "opening manifest"},
		{"no artifacts", func(w *workspace, o *Options) {
			w.file(t, "empty.json", `{"mediaType":"application/vnd.slipway.artifacts.v1+json","artifacts":[]}`)
			o.Manifest, o.Results = "empty.json", []string{"x"}
		}, "empty.json", "lists no artifacts"},
		{"glob matches nothing", func(w *workspace, o *Options) { o.Results = []string{"reports/*.xml"} }, "", `input "results"`},
		{"truncated junit", func(w *workspace, o *Options) {
			w.file(t, "r.xml", "<testsuite name=\"s\">\n<testcase name=\"a\"/>\n<testcase name=\"b\"><failure>boo")
			o.Results = []string{"r.xml"}
		}, "r.xml", "r.xml:3:"},
		{"no cases", func(w *workspace, o *Options) {
			w.file(t, "r.tap", "1..0 # SKIP nothing here\n")
			o.Results = []string{"r.tap"}
		}, "", "no test cases in 1 result file"},
		{"bad pass-env", func(w *workspace, o *Options) { o.Command, o.PassEnv = "true", []string{"A=b"} }, "", "is not an environment variable name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			o := w.options(t)
			tc.mod(w, &o)
			before, _ := os.ReadFile(filepath.Join(w.dir, "dist", "manifest.json"))
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run() error = %v, want %q", err, tc.wantErr)
			}
			if exitcode.Of(err) != exitcode.Usage || exitcode.FileOf(err) != tc.file {
				t.Errorf("exit code %v, file %q", exitcode.Of(err), exitcode.FileOf(err))
			}
			after, _ := os.ReadFile(filepath.Join(w.dir, "dist", "manifest.json"))
			if !bytes.Equal(before, after) {
				t.Error("the manifest changed")
			}
			if _, err := os.Stat(filepath.Join(w.dir, "dist", "manifest.test-result.sigstore.json")); err == nil {
				t.Error("a bundle was written")
			}
		})
	}
}
