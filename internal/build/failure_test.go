package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

// TestFailuresLeaveNothing runs failing builds (with an archive and an
// image, so that every output is in play) and checks the exit code, the
// message, and that the workspace holds exactly what it held before plus
// what the command itself wrote.
func TestFailuresLeaveNothing(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		files     map[string]string
		link      [2]string // a symbolic link to make: name, target
		artifacts []string
		command   string
		edit      func(o *Options)
		code      exitcode.Code
		want      string
	}{
		{name: "command fails", command: "mkdir -p dist && echo half > dist/app && exit 3", artifacts: []string{"dist/*"},
			code: exitcode.Failed, want: "the build command exited with status 3"},
		{name: "command killed", command: "kill -9 $$", artifacts: []string{"dist/*"},
			code: exitcode.Failed, want: "killed by signal killed"},
		{name: "no match", files: map[string]string{"dist/app": "a"}, artifacts: []string{"dist/app", "dist/*.tar.gz"},
			code: exitcode.Usage, want: `artifacts: pattern "dist/*.tar.gz" matched no files`},
		{name: "link leaves the workspace", files: map[string]string{"dist/app": "a"}, link: [2]string{"dist/leak", filepath.Join(outside, "secret.txt")},
			artifacts: []string{"dist/*"}, code: exitcode.Usage, want: `"dist/leak" is a symbolic link to`},
		{name: "third file unreadable", files: map[string]string{"dist/a": "a", "dist/b": "b", "dist/c/" + unreadable: "c", "dist/d": "d"},
			artifacts: []string{"dist/**"}, code: exitcode.Internal, want: "injected by the test"},
		{name: "glob escapes", artifacts: []string{"../x"}, code: exitcode.Usage, want: "leaves the workspace"},
		{name: "bad inputs together", artifacts: []string{"dist/*"}, edit: func(o *Options) {
			o.Archive, o.PassEnv, o.SourceDateEpoch, o.Image.Platform = "../a.tar.gz", []string{"A=b"}, "yesterday", "linux"
		}, code: exitcode.Usage, want: "archive \"../a.tar.gz\" must be a file name"},
		{name: "output dir outside", artifacts: []string{"dist/*"}, edit: func(o *Options) { o.OutputDir = "../out" },
			code: exitcode.Usage, want: `output-dir "../out" must be a directory inside the workspace`},
		{name: "image root holds the outputs", files: map[string]string{"dist/app": "a"}, artifacts: []string{"dist/app"},
			edit: func(o *Options) { o.Image.Base, o.Image.Root, o.OutputDir = "scratch", "dist", "dist/out" },
			code: exitcode.Usage, want: `image-root "dist" contains output-dir "dist/out"`},
		{name: "image root outside", files: map[string]string{"dist/app": "a"}, artifacts: []string{"dist/app"},
			edit: func(o *Options) { o.Image.Base, o.Image.Root = "scratch", "../root" },
			code: exitcode.Usage, want: `image-root "../root" must be a directory inside the workspace`},
		{name: "command not found", command: "no-such-compiler -c main.c", artifacts: []string{"dist/*"},
			code: exitcode.Failed, want: "the build command exited with status 127: a program it runs was not found (its output above names it) on PATH"},
		{name: "command not found in the action image", command: "cc -c main.c", artifacts: []string{"dist/*"},
			edit: func(o *Options) {
				o.InActionImage, o.Getenv = true, func(k string) string { return map[string]string{"PATH": "/nonexistent"}[k] }
			},
			code: exitcode.Failed, want: "has a busybox shell and no compilers or other toolchains: build on the runner instead, with build-mode: runner in the release workflow, or with slipway/actions/actions/setup@v1"},
		{name: "toolchains missing, found before the command runs", command: "mkdir -p dist && touch dist/ran", artifacts: []string{"dist/*"},
			edit: func(o *Options) { o.Toolchains = []string{"no-such-cc-1", "gcc", "no-such-fc-2"} },
			code: exitcode.Usage, want: "toolchains: \"no-such-cc-1\", \"no-such-fc-2\" not found on the build command's PATH"},
		{name: "toolchains badly named", artifacts: []string{"dist/*"}, edit: func(o *Options) { o.Toolchains = []string{"bin/gcc"} },
			code: exitcode.Usage, want: `toolchains: "bin/gcc" is a relative path`},
		{name: "image inputs without a base", artifacts: []string{"dist/*"}, edit: func(o *Options) { o.Image.Base, o.Image.Entrypoint = "", []string{"/app"} },
			code: exitcode.Usage, want: "need image-base"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := workspace(t, tc.files)
			if tc.link[0] != "" {
				if err := os.Symlink(tc.link[1], filepath.Join(dir, tc.link[0])); err != nil {
					t.Fatal(err)
				}
			}
			before := listFiles(t, dir)
			o := options(dir, tc.artifacts...)
			o.Command, o.Archive = tc.command, "all.tar.gz"
			o.Image.Base, o.Image.Entrypoint = "scratch", []string{"/a"}
			if tc.edit != nil {
				tc.edit(&o)
			}
			_, err := Run(context.Background(), o)
			if err == nil || exitcode.Of(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run() error = %v (code %v), want code %v and %q", err, exitcode.Of(err), tc.code, tc.want)
			}
			after := listFiles(t, dir)
			for _, p := range after {
				if !slices.Contains(before, p) && p != "dist/" && p != "dist/app" {
					t.Errorf("the failed build left %q behind (workspace before: %q)", p, before)
				}
			}
		})
	}
}

// TestPreviousOutputsSurviveAFailure: a failed run neither removes nor
// changes the outputs of the last good one.
func TestPreviousOutputsSurviveAFailure(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"dist/app": "a", "dist/x/" + unreadable: "u"})
	o := options(dir, "dist/app")
	o.Archive = "app.tar.gz"
	run(t, o)
	before := map[string]string{}
	for _, p := range listFiles(t, filepath.Join(dir, "dist")) {
		b, _ := os.ReadFile(filepath.Join(dir, "dist", p))
		before[p] = string(b)
	}
	o.Artifacts = []string{"dist/**"}
	if _, err := Run(context.Background(), o); err == nil {
		t.Fatal("Run() over an unreadable file succeeded")
	}
	after := listFiles(t, filepath.Join(dir, "dist"))
	if len(after) != len(before) {
		t.Errorf("dist holds %q after the failure, want %d entries", after, len(before))
	}
	for p, content := range before {
		if b, _ := os.ReadFile(filepath.Join(dir, "dist", p)); string(b) != content {
			t.Errorf("%s changed after a failed run", p)
		}
	}
}
