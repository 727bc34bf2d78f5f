package e2e

import (
	"maps"
	"strings"
	"testing"
)

// The harness's own parsers, without act.

func TestParseLog(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		`time="2026-11-25T20:11:41Z" level=info msg="Using docker host"`,
		`{"job":"wf/build","jobID":"build","msg":"  ✅  Success - Main x","step":"x","stepID":["b"],"stepResult":"success"}`,
		`{"arg":"sha256:ab","command":"set-output","job":"wf/build","jobID":"build","msg":"  ⚙  ::set-output:: digest=sha256:ab","name":"digest","stepID":["b"]}`,
		`{"arg":"v2","command":"set-output","jobID":"build","name":"digest","stepID":["b"]}`,
		`{"job":"wf/build","jobID":"build","msg":"  ❌  Failure - Main y","step":"y","stepID":["c"],"stepResult":"failure"}`,
		`{"job":"wf/build","jobID":"build","jobResult":"failure","msg":"🏁  Job failed"}`,
		``,
	}, "\n")
	r := &Result{}
	r.collect(parseLog(log))
	if len(r.lines) != 6 {
		t.Fatalf("parseLog kept %d lines, want 6", len(r.lines))
	}
	if r.lines[0].Msg == "" {
		t.Errorf("a non-JSON line lost its text")
	}
	if got := r.Output("build", "b", "digest"); got != "v2" {
		t.Errorf("Output(build, b, digest) = %q, want the last value v2", got)
	}
	if r.Jobs["build"] != "failure" {
		t.Errorf("Jobs = %v, want build: failure", r.Jobs)
	}
	if got := r.FailedSteps(); len(got) != 1 || !strings.HasPrefix(got[0], "build/c (y)") {
		t.Errorf("FailedSteps() = %q, want only build/c", got)
	}
	if !r.Logged("::set-output:: digest") {
		t.Errorf("Logged does not find a message")
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "a=1\nb.c=x=y\n\na=2\n", want: map[string]string{"a": "2", "b.c": "x=y"}},
		{in: "", want: map[string]string{}},
		{in: "novalue\n", wantErr: `line 1: "novalue" is not name=value`},
		{in: "a=1\n=2\n", wantErr: `line 2: "=2" is not name=value`},
	}
	for _, tt := range tests {
		got, err := parseValues(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("parseValues(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("parseValues(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	t.Parallel()
	got, err := uniqueName("# c\nname: e2e-x\non: push\njobs:\n  a:\n    name: keep\n", "001")
	if err != nil || got != "# c\nname: e2e-x-001\non: push\njobs:\n  a:\n    name: keep\n" {
		t.Errorf("uniqueName = %q, %v", got, err)
	}
	for _, wf := range []string{"on: push\n", "name: \"quoted\"\n", "name:\n"} {
		if _, err := uniqueName(wf, "1"); err == nil {
			t.Errorf("uniqueName(%q) accepted it", wf)
		}
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add(`{"jobID":"a","stepID":["1"],"command":"set-output","name":"n","arg":"v"}` + "\nplain\n")
	f.Add(`{"stepID":"notalist"}`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range parseLog(s) {
			if l.raw == "" {
				t.Fatalf("line without its raw text")
			}
		}
		_, _ = parseValues(s)
	})
}
