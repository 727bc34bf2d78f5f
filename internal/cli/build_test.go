package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
)

func TestBuildCLI(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PATH": os.Getenv("PATH"), "SOURCE_DATE_EPOCH": "1700000000"}
	tests := []struct {
		name       string
		args       []string
		code       int
		wantStdout []string
		wantStderr []string
	}{
		{name: "ok", args: []string{"--command", "mkdir -p out && printf hi > out/app", "--artifacts", "out/app", "--archive", "app.tar.gz"}, code: 0,
			wantStdout: []string{"manifest=dist/manifest.json\n", "subjects-file=dist/subjects.sha256\n", "archive=dist/app.tar.gz\n", "archive-digest=sha256:", "base64-subjects="},
			wantStderr: []string{"==> Build command", "out/app", "SOURCE_DATE_EPOCH=1700000000"}},
		{name: "image", args: []string{"--command", "mkdir -p out && printf hi > out/app", "--artifacts", "out/app", "--image-base", "scratch", "--image-entrypoint", "/app"}, code: 0,
			wantStdout: []string{"image-digest=sha256:", "image-layout=dist/image\n"}},
		{name: "command fails", args: []string{"--command", "echo boom >&2; exit 7", "--artifacts", "out/app"}, code: 1,
			wantStderr: []string{"boom", "slipway build: the build command exited with status 7"}},
		{name: "no match", args: []string{"--artifacts", "nothing/*"}, code: 2,
			wantStderr: []string{`artifacts: pattern "nothing/*" matched no files`}},
		{name: "missing artifacts", args: []string{"--command", "true"}, code: 2,
			wantStderr: []string{`input "artifacts"`, "required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBuild(t, t.TempDir(), env, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestBuildInActions runs the stage as a GitHub Actions step: inputs from
// INPUT_*, outputs to $GITHUB_OUTPUT, the command's output in a group, a
// warning annotation for the missing git commit.
func TestBuildInActions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "output")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "PATH": os.Getenv("PATH"),
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_REF": "refs/tags/v1",
		"INPUT_COMMAND": "mkdir -p bin && echo built > bin/tool", "INPUT_ARTIFACTS": "bin/*\n", "INPUT_OUTPUT-DIR": "out",
	}
	code, stdout, stderr := runBuild(t, dir, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, w := range []string{"::group::Build command", "::endgroup::", "::warning::the workspace"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"manifest<<", "out/manifest.json", "subjects-file<<", "out/subjects.sha256", "base64-subjects<<"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", w, b)
		}
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "out", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Build.Repository != "git+https://github.com/o/r" || m.Build.Ref != "refs/tags/v1" || len(m.Records) != 1 || m.Records[0].Name != "bin/tool" {
		t.Errorf("manifest = %+v, build %+v", m.Records, m.Build)
	}
}
