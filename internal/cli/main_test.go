package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
)

// echo is a test stage: it outputs its input, or fails as told.
type echo struct {
	msg, password, fail string
}

func (e *echo) Name() string  { return "echo" }
func (e *echo) Short() string { return "Echo a message." }
func (e *echo) Inputs() []input.Input {
	return []input.Input{
		input.String(&e.msg, input.Spec{Name: "message", Description: "What to say.", Required: true}),
		input.String(&e.password, input.Spec{Name: "password", Description: "A secret.", Secret: true, Env: "ECHO_PASSWORD"}),
		input.String(&e.fail, input.Spec{Name: "fail", Description: "How to fail."}),
	}
}
func (e *echo) Outputs() []input.Output {
	return []input.Output{{Name: "said", Description: "The message."}}
}
func (e *echo) Run(_ context.Context, rt *Runtime) error {
	rt.Log.Info("echoing", "length", len(e.msg))
	switch e.fail {
	case "check":
		return exitcode.WithFile(exitcode.Failuref("the message %q is wrong", e.msg), "msg.txt")
	case "infra":
		return exitcode.Infraf("registry down")
	case "undeclared":
		return rt.Output("nope", "x")
	}
	return rt.Output("said", e.msg)
}

// runCLI runs "slipway args..." through Main in dir with env as the whole
// environment and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Env{
		Args: args, Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return dir, nil },
	})
	return code, stdout.String(), stderr.String()
}

// stageRunner returns runCLI for "slipway stage".
func stageRunner(stage string) func(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
	return func(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, dir, env, append([]string{stage}, args...)...)
	}
}

// The stages' runners.
var (
	runBuild  = stageRunner("build")
	runSBOM   = stageRunner("sbom")
	runSign   = stageRunner("sign")
	runAttest = stageRunner("attest")
	runPush   = stageRunner("push")
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := Env{Args: args, Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Getwd: os.Getwd}
	code := mainWith(context.Background(), e, []Command{&echo{}})
	return code, stdout.String(), stderr.String()
}

func TestMainCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{name: "ok", args: []string{"echo", "--message", "hi"}, code: 0, wantStdout: "said=hi\n"},
		{name: "missing required", args: []string{"echo"}, code: 2, wantStderr: `input "message" (from default): required`},
		{name: "unknown flag", args: []string{"echo", "--nope"}, code: 2, wantStderr: `unknown flag: --nope; run "slipway echo --help"`},
		{name: "unknown command", args: []string{"nope"}, code: 2, wantStderr: `unknown command "nope"`},
		{name: "positional args", args: []string{"echo", "x"}, code: 2, wantStderr: `unknown command "x" for "slipway echo"`},
		{name: "secret is not a flag", args: []string{"echo", "--password", "x"}, code: 2, wantStderr: "unknown flag: --password"},
		{name: "check failed", args: []string{"echo", "--message", "hi", "--fail", "check"}, code: 1, wantStderr: `slipway echo: msg.txt: the message "hi" is wrong`},
		{name: "infra", args: []string{"echo", "--message", "hi", "--fail", "infra"}, code: 3, wantStderr: "registry down"},
		{name: "undeclared output", args: []string{"echo", "--message", "hi", "--fail", "undeclared"}, code: 1, wantStderr: `output "nope" is not declared`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.wantStdout) {
				t.Errorf("stdout = %q, want %q", stdout, tc.wantStdout)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestMainInActions(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "output")
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out,
		"INPUT_MESSAGE": "from the workflow", "INPUT_PASSWORD": "hunter2", "INPUT_FAIL": "",
	}
	code, stdout, stderr := run(t, env, "echo")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "::add-mask::hunter2") {
		t.Errorf("secret not masked: %q", stdout)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "said<<") || !strings.Contains(string(b), "from the workflow") {
		t.Errorf("GITHUB_OUTPUT = %q", b)
	}

	env["INPUT_FAIL"] = "check"
	code, stdout, _ = run(t, env, "echo")
	if code != 1 || !strings.Contains(stdout, "::error file=msg.txt,title=slipway echo::the message") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func TestExitCodeNames(t *testing.T) {
	t.Parallel()
	if exitcode.Of(nil) != 0 || exitcode.Of(errors.New("x")) != exitcode.Failed {
		t.Fatal("default codes changed")
	}
}
