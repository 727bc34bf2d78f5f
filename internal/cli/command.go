package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/timeouts"
	"github.com/slipway/actions/internal/workspace"
)

// Command is one stage as the command line and the action runtime see it.
// Its Inputs bind to the command's own option struct; Run reads them.
type Command interface {
	// Name is the subcommand and the folder under actions/.
	Name() string
	// Short is one sentence for --help, action.yml and the README.
	Short() string
	// Inputs declares the stage's inputs, bound to its options.
	Inputs() []input.Input
	// Outputs declares the stage's outputs.
	Outputs() []input.Output
	// Run runs the stage with resolved inputs.
	Run(ctx context.Context, rt *Runtime) error
}

// Runtime is what a running command may touch: every OS touch point is here
// so that tests can replace it.
type Runtime struct {
	Log    *slog.Logger
	Report action.Reporter
	Getenv func(string) string
	// Dir is the workspace: relative paths in inputs are relative to it.
	Dir string
	// Stdin is the process's standard input (slipway mcp's stdio); nil
	// for none.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Now    func() time.Time
	HTTP   *http.Client
	// Net bounds every wait on the network (see useNet).
	Net timeouts.Config
	// InActions is true when running as a GitHub Actions step.
	InActions bool
	// ActionImage is true when running in slipway's action image (see
	// inActionImage), which has no compilers.
	ActionImage bool

	outputs []input.Output
}

// Output records a declared output of the running command.
func (rt *Runtime) Output(name, value string) error {
	if !slices.ContainsFunc(rt.outputs, func(o input.Output) bool { return o.Name == name }) {
		return fmt.Errorf("output %q is not declared by this stage (internal error)", name)
	}
	return rt.Report.Output(name, value)
}

// Group runs f inside a log section titled title.
func (rt *Runtime) Group(title string, f func() error) error {
	end := rt.Report.Group(title)
	defer end()
	return f()
}

// path resolves p against the workspace unless it is absolute.
func (rt *Runtime) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(rt.Dir, p)
}

// inside resolves p, the value of input name, inside the workspace through
// every symbolic link (package workspace): paths the stages write, and the
// files they read from user input, must not lead out of it. An empty p
// stays empty.
func (rt *Runtime) inside(name, p string) (string, error) {
	if p == "" {
		return "", nil
	}
	r, err := workspace.Resolve(rt.Dir, p)
	if err != nil {
		return "", exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input %q: %w", name, err)), p)
	}
	return r, nil
}

// checkInside checks that each value of the named inputs leads inside the
// workspace; pairs are input name, value.
func (rt *Runtime) checkInside(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if _, err := rt.inside(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
