package action

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestActionsReporter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary}
	var stdout bytes.Buffer
	r := New(Config{Getenv: func(k string) string { return env[k] }, Stdout: &stdout})
	if _, ok := r.(*Actions); !ok {
		t.Fatalf("New() = %T, want *Actions", r)
	}
	r.Mask("line one\nline two\n")
	end := r.Group("build")
	end()
	if err := r.Output("digest", "sha256:abc"); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary(Summary{Title: "build", Rows: []Row{{Name: "dist/a|b", Role: "artifact", Digest: "sha256:abc", Size: 2048}}}); err != nil {
		t.Fatal(err)
	}
	r.Error("slipway build", "glob \"x\" matched nothing", "action.yml")

	got := stdout.String()
	for _, want := range []string{"::add-mask::line one\n", "::add-mask::line two\n", "::group::build\n", "::endgroup::\n", "::error file=action.yml,title=slipway build::glob \"x\" matched nothing\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("stdout lacks %q:\n%s", want, got)
		}
	}
	o, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(o), "digest<<") || !strings.Contains(string(o), "\nsha256:abc\n") {
		t.Errorf("GITHUB_OUTPUT = %q", o)
	}
	s, _ := os.ReadFile(summary)
	if !strings.Contains(string(s), "| `dist/a|b` | artifact | `sha256:abc` | 2.0 KiB |") {
		t.Errorf("summary = %q", s)
	}
}

func TestActionsOutputUnwritable(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "missing", "output")}
	r := New(Config{Getenv: func(k string) string { return env[k] }, Stdout: &bytes.Buffer{}})
	err := r.Output("x", "y")
	if err == nil || !strings.Contains(err.Error(), "writing output x for GitHub Actions") {
		t.Fatalf("Output() error = %v", err)
	}
	env["GITHUB_OUTPUT"] = ""
	if err := r.Output("x", "y"); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") {
		t.Fatalf("Output() error = %v", err)
	}
}

func TestCLIReporter(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	r := New(Config{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
	r.Mask("s3cret")
	_ = r.Output("digest", "sha256:abc")
	_ = r.Output("list", "a\nb")
	_ = r.Summary(Summary{Title: "build", Rows: []Row{{Name: "a", Role: "artifact", Digest: "sha256:abc", Size: 1}}})
	if want := "digest=sha256:abc\nlist<<EOF_SLIPWAY\na\nb\nEOF_SLIPWAY\n"; stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}
	if strings.Contains(stderr.String(), "s3cret") || !strings.Contains(stderr.String(), "sha256:abc") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestCLIErrorNamesTheFileOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, msg, file, want string
	}{
		{"no file", "bad", "", "slipway verify: bad\n"},
		{"file not in message", "bad field", "p.yaml", "slipway verify: p.yaml: bad field\n"},
		{"message names the path", "/tmp/p.yaml:5:5: unknown field", "/tmp/p.yaml", "slipway verify: /tmp/p.yaml:5:5: unknown field\n"},
		{"message names the resolved path", `manifest "/w/dist/m.json": field "mediaType"`, "dist/m.json", "slipway verify: manifest \"/w/dist/m.json\": field \"mediaType\"\n"},
	} {
		var stderr bytes.Buffer
		(&CLI{Stdout: &bytes.Buffer{}, Stderr: &stderr}).Error("slipway verify", tc.msg, tc.file)
		if stderr.String() != tc.want {
			t.Errorf("%s: Error() wrote %q, want %q", tc.name, stderr.String(), tc.want)
		}
	}
}

// TestErrorAt: an error at a line of a file is an ::error file=,line=::
// annotation in Actions, FILE:LINE on the command line.
func TestErrorAt(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	New(Config{Getenv: func(k string) string { return env[k] }, Stdout: &stdout}).ErrorAt("test failed: pkg/TestX", "got 3, want 4", Location{File: "pkg/x_test.go", Line: 12})
	New(Config{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}).ErrorAt("test failed: a", "boom", Location{File: "t/a.t"})
	// go test's messages name their FILE:LINE already: printed once.
	New(Config{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}).ErrorAt("test failed: b", "x_test.go:7: got 3", Location{File: "x_test.go", Line: 7})
	if want := "::error file=pkg/x_test.go,line=12,title=test failed%3A pkg/TestX::got 3, want 4\n"; stdout.String() != want {
		t.Errorf("Actions: %q, want %q", stdout.String(), want)
	}
	if want := "test failed: a: t/a.t: boom\ntest failed: b: x_test.go:7: got 3\n"; stderr.String() != want {
		t.Errorf("CLI: %q, want %q", stderr.String(), want)
	}
}

// TestSummaryTable renders a summary's own table in Markdown (cells
// escaped) and as text (tabs in cells kept out of the columns).
func TestSummaryTable(t *testing.T) {
	t.Parallel()
	s := Summary{Title: "Tests: FAILED", Table: &Table{Title: "Failed tests", Header: []string{"Test", "Where", "Message"},
		Rows: [][]string{{"pkg/TestA|B", "a_test.go:3", "got <nil>\tmore"}}}}
	md := s.Markdown()
	if !strings.Contains(md, "**Failed tests**\n\n| Test | Where | Message |\n| --- | --- | --- |\n| pkg/TestA\\|B | a_test.go:3 | got &lt;nil&gt;\tmore |\n") {
		t.Errorf("Markdown:\n%s", md)
	}
	txt := s.Text()
	if !strings.Contains(txt, "TEST") || !strings.Contains(txt, "got <nil> more") {
		t.Errorf("Text:\n%s", txt)
	}
}
