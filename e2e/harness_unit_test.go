package e2e

import (
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
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
	for _, tt := range []struct{ in, want string }{
		{"# c\nname: e2e-x\non: push\njobs:\n  a:\n    name: keep\n",
			"# c\nname: e2e-x-7-1\non: push\njobs:\n  a:\n    name: keep-7-1\n"},
		// A job without a name gets its id; a called workflow's job too; keys deeper down are left alone.
		{"name: w\njobs:\n  build:  # c\n    runs-on: x\n    steps:\n      - name: s\n\n  call:\n    uses: ./w.yml\n    with:\n      name: n\n",
			"name: w-7-1\njobs:\n  build:  # c\n    name: build-7-1\n    runs-on: x\n    steps:\n      - name: s\n\n  call:\n    name: call-7-1\n    uses: ./w.yml\n    with:\n      name: n\n"},
		// Keys indented by two spaces outside jobs: are not jobs.
		{"name: w\non:\n  push:\njobs:\n  j:\n    name: J ${{ inputs.x }}\n",
			"name: w-7-1\non:\n  push:\njobs:\n  j:\n    name: J ${{ inputs.x }}-7-1\n"},
	} {
		got, err := uniqueName(tt.in, "7-1")
		if err != nil || got != tt.want {
			t.Errorf("uniqueName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, wf := range []string{"on: push\njobs:\n  a:\n", "name: \"quoted\"\njobs:\n  a:\n", "name:\njobs:\n  a:\n",
		"name: w\njobs:\n    a:\n", "name: w\njobs:\n  a:\n    name: \"q\"\n"} {
		if _, err := uniqueName(wf, "1"); err == nil {
			t.Errorf("uniqueName(%q) accepted it", wf)
		}
	}
	// Every workflow a scenario runs can be renamed.
	wfs, err := filepath.Glob("testdata/workflows/*.yml")
	if err != nil || len(wfs) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	for _, wf := range append(wfs, "../.github/workflows/publish.yml") {
		if _, err := uniqueName(string(readFile(t, wf)), "7-1"); err != nil {
			t.Errorf("%s: %v", wf, err)
		}
	}
	if a, b := runSuffix(), runSuffix(); a == b {
		t.Errorf("runSuffix gave %q twice", a)
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

// TestTurns checks that the turns go longest first, whatever order the tests registered and woke in, and that
// no more than limit run at once.
func TestTurns(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 3} {
		tr := newTurns(limit)
		names := []string{"TestZ", "TestImage", "TestHPCRun", "TestA", "TestPublish", "TestRelease"}
		for _, n := range names {
			tr.register(n)
		}
		var order []string // guarded by tr.mu
		most := 0
		var wg sync.WaitGroup
		for _, n := range slices.Backward(names) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tr.wait(n)
				tr.mu.Lock()
				order = append(order, n)
				most = max(most, tr.running)
				tr.mu.Unlock()
				runtime.Gosched()
				tr.done()
			}()
		}
		wg.Wait()
		if limit == 1 {
			if want := []string{"TestPublish", "TestHPCRun", "TestRelease", "TestImage", "TestA", "TestZ"}; !slices.Equal(order, want) {
				t.Errorf("limit 1: turns went %v, want %v", order, want)
			}
		}
		if len(order) != len(names) || most > limit {
			t.Errorf("limit %d: %d of %d tests had a turn, %d at once", limit, len(order), len(names), most)
		}
	}
}
