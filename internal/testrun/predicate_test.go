package testrun

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/testresult"
)

// referencePredicate is the predicate as a struct, the way json.Marshal
// encoded it before it was written by hand: the encoding it must keep.
type referencePredicate struct {
	Result        string               `json:"result"`
	Configuration []resourceDescriptor `json:"configuration"`
	URL           string               `json:"url,omitempty"`
	PassedTests   []string             `json:"passedTests"`
	WarnedTests   []string             `json:"warnedTests"`
	FailedTests   []string             `json:"failedTests"`
	SkippedTests  []string             `json:"slipwaySkippedTests,omitempty"`
}

func (p *referencePredicate) add(c testresult.Case) {
	name := c.FullName()
	switch c.Status {
	case testresult.Passed:
		p.PassedTests = append(p.PassedTests, name)
	case testresult.Warned:
		p.WarnedTests = append(p.WarnedTests, name)
	case testresult.Failed:
		p.FailedTests = append(p.FailedTests, name)
	case testresult.Skipped:
		p.SkippedTests = append(p.SkippedTests, name)
	}
}

// TestPredicateEncoding holds the hand-written predicate to the bytes
// json.Marshal writes for the same content: names that need escaping
// (quotes, HTML, control bytes, invalid UTF-8, U+2028), suites or names
// missing, each list empty or not, with and without configuration and URL.
func TestPredicateEncoding(t *testing.T) {
	t.Parallel()
	odd := []testresult.Case{
		{Suite: "pkg", Name: `quote " and \ back`, Status: testresult.Passed},
		{Suite: "a<b>&c", Name: "html", Status: testresult.Failed},
		{Suite: "tab\there", Name: "nl\nhere", Status: testresult.Warned},
		{Suite: "bad\xffutf8", Name: "ok", Status: testresult.Skipped},
		{Suite: "line\u2028sep", Name: "é ü 日本", Status: testresult.Passed},
		{Suite: "", Name: "no suite", Status: testresult.Failed},
		{Suite: "no name", Status: testresult.Failed},
		{Status: testresult.Failed},
		{Suite: "del\x7f", Name: "x", Status: testresult.Passed},
		{Suite: "lt", Name: "a<b", Status: testresult.Passed},
		{Suite: "amp&", Name: "b", Status: testresult.Failed},
		{Suite: "gt", Name: "c>d", Status: testresult.Skipped},
	}
	plain := []testresult.Case{
		{Suite: "tests.test_a", Name: "test_one[param-1]", Status: testresult.Passed},
		{Suite: "tests.test_a", Name: "test_two", Status: testresult.Failed, Message: "assert 1 == 2"},
	}
	full := &artifact.Manifest{Build: &artifact.BuildInfo{Commit: commit, Repository: "git+https://github.com/o/r", Ref: "refs/heads/main"}}
	actions := env(map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com/", "GITHUB_REPOSITORY": "o/r<&>", "GITHUB_RUN_ID": "7"})
	tests := []struct {
		name  string
		o     Options
		m     *artifact.Manifest
		res   Result
		cases []testresult.Case
	}{
		{"plain, no configuration", Options{Getenv: env(nil)}, &artifact.Manifest{}, Result{Result: ResultFailed}, plain},
		{"odd names, everything configured", Options{Command: "go test ./... && echo '<done>'", Getenv: actions}, full,
			Result{Result: ResultFailed, Exit: &execenv.Exit{Code: 137, Signal: "killed"},
				Files: []File{{Path: "reports/a b.xml", Digest: "sha256:" + commit + commit[:24], Format: testresult.JUnit, Cases: 9}}}, odd},
		{"only passed", Options{Command: "true", Getenv: env(nil)}, full, Result{Result: ResultPassed, Exit: &execenv.Exit{}}, plain[:1]},
		{"only skipped", Options{Getenv: env(nil)}, &artifact.Manifest{}, Result{Result: ResultPassed}, odd[3:4]},
		{"no cases", Options{Getenv: env(nil)}, &artifact.Manifest{}, Result{Result: ResultPassed}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			size, appendPred, err := tt.o.predicate(tt.m, &tt.res, tt.cases)
			if err != nil {
				t.Fatal(err)
			}
			got := appendPred(nil)
			if tt.name != "odd names, everything configured" && size < len(got) {
				t.Errorf("size %d, predicate %d bytes: the room made was short", size, len(got))
			}
			ref := referencePredicate{Result: tt.res.Result, URL: tt.o.runURL(), PassedTests: []string{}, WarnedTests: []string{}, FailedTests: []string{}}
			if err := json.Unmarshal(mustField(t, got, "configuration"), &ref.Configuration); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.cases {
				ref.add(c)
			}
			want, err := json.Marshal(ref)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("predicate\n%s\nwant (json.Marshal)\n%s", got, want)
			}
		})
	}
}

// mustField is the raw value of a field of the JSON object js.
func mustField(t *testing.T, js []byte, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	return m[field]
}
