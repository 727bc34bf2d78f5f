package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/timeouts"
	"github.com/slipway/actions/internal/version"
)

// Env is the process environment Main runs in.
type Env struct {
	Args []string
	// Stdin is read only by commands that speak a protocol on it
	// (slipway mcp); nil is an empty input.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Getwd  func() (string, error)
}

// Main runs slipway with env and returns the process exit code.
func Main(ctx context.Context, env Env) int {
	return mainWith(ctx, env, Commands())
}

func mainWith(ctx context.Context, env Env, cmds []Command) int {
	root := newRoot(ctx, env, cmds)
	root.SetArgs(env.Args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return int(exitcode.OK)
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		err = exitcode.BadInput(err)
	}
	// Errors from a stage were reported by runCommand; report the rest here.
	var reported reportedError
	if !errors.As(err, &reported) {
		action.New(action.Config{Getenv: env.Getenv, Stdout: env.Stdout, Stderr: env.Stderr}).
			Error("slipway", err.Error()+`; run "slipway --help" for usage`, "")
	}
	return int(exitcode.Of(err))
}

// positional is a command that takes positional arguments besides its
// inputs (a command-line command, never an action: actions have inputs only).
type positional interface {
	// ArgsUse is the arguments' part of the usage line ("ID").
	ArgsUse() string
	// SetArgs checks and keeps the arguments; a usageError when they are wrong.
	SetArgs(args []string) error
}

// commandLineOnly marks a command that is not an action (serve, token):
// its help does not speak of action inputs.
type commandLineOnly interface{ commandLineOnly() }

// usageError marks command-line mistakes found by cobra or by us.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// reportedError marks an error runCommand already reported.
type reportedError struct{ error }

func (r reportedError) Unwrap() error { return r.error }

func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "flag needs an argument") ||
		strings.HasPrefix(msg, "invalid argument") || strings.Contains(msg, "accepts 0 arg(s)")
}

func newRoot(ctx context.Context, env Env, cmds []Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "slipway",
		Short: "Carry a build from a repository to an HPC cluster with proof at every step",
		Long: `slipway builds, describes, signs, attests and publishes artifacts; each stage is a
subcommand here and a GitHub Action under actions/<stage>.

Exit codes: 0 ok, 1 the check or build failed, 2 bad usage or input,
3 internal or infrastructure failure, 65 exec-verified refused the
artifact (not the admitted one), 130 interrupted by SIGINT,
143 stopped by SIGTERM.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("slipway {{.Version}}\n")
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w; run %q for the flags it takes", err, c.CommandPath()+" --help")}
	})
	for _, c := range cmds {
		root.AddCommand(cobraCommand(env, c))
	}
	root.AddCommand(cobraCommand(env, &demoCommand{}))
	root.AddCommand(tokenCommands(env))
	root.AddCommand(cobraCommand(env, &serveCommand{}))
	root.AddCommand(cobraCommand(env, &exportCommand{}))
	root.AddCommand(cobraCommand(env, &approveCommand{}))
	root.AddCommand(cobraCommand(env, &mcpCommand{}))
	root.AddCommand(cobraCommand(env, &logKeyCommand{}))
	root.AddCommand(cobraCommand(env, &execVerifiedCommand{}))
	root.AddCommand(runnerCommands(env))
	addRunAs(root, env)
	return root
}

func cobraCommand(env Env, c Command) *cobra.Command {
	inputs := c.Inputs()
	cc := &cobra.Command{
		Use:   c.Name(),
		Short: c.Short(),
		Long:  longHelp(c, inputs),
		Args:  cobra.NoArgs,
		RunE: func(cc *cobra.Command, _ []string) error {
			return runCommand(cc.Context(), env, c, cc.CommandPath(), inputs, input.Changed(cc.Flags(), inputs))
		},
	}
	if p, ok := c.(positional); ok {
		cc.Use += " " + p.ArgsUse()
		cc.Args = cobra.ArbitraryArgs
		cc.RunE = func(cc *cobra.Command, args []string) error {
			if err := p.SetArgs(args); err != nil {
				return err
			}
			return runCommand(cc.Context(), env, c, cc.CommandPath(), inputs, input.Changed(cc.Flags(), inputs))
		}
	}
	input.AddFlags(cc.Flags(), inputs)
	return cc
}

func longHelp(c Command, inputs []input.Input) string {
	var b strings.Builder
	b.WriteString(c.Short())
	if _, ok := c.(commandLineOnly); ok {
		b.WriteString("\n\nEach flag falls back to the environment variable its help names.")
	} else {
		b.WriteString("\n\nFlags are the action's inputs; inside GitHub Actions they are read from INPUT_* as well.")
	}
	var secrets []input.Input
	for _, in := range inputs {
		if in.Secret {
			secrets = append(secrets, in)
		}
	}
	if len(secrets) > 0 {
		b.WriteString("\n\nSecrets (read from the environment, never from flags):\n")
		for _, s := range secrets {
			fmt.Fprintf(&b, "  %-22s %s\n", s.Env, input.FlagUsage(s.Spec))
		}
	}
	if l, ok := c.(interface{ Long() string }); ok {
		b.WriteString("\n\n" + l.Long())
	}
	if outs := c.Outputs(); len(outs) > 0 {
		b.WriteString("\n\nOutputs (printed as name=value lines on stdout):\n")
		for _, o := range outs {
			fmt.Fprintf(&b, "  %-22s %s\n", o.Name, o.Description)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// runCommand runs c; title is its command path ("slipway token create").
func runCommand(ctx context.Context, env Env, c Command, title string, inputs []input.Input, flags map[string]string) error {
	inActions := action.InActions(env.Getenv)
	rep := action.New(action.Config{Getenv: env.Getenv, Stdout: env.Stdout, Stderr: env.Stderr})
	fail := func(err error) error {
		rep.Error(title, err.Error(), exitcode.FileOf(err))
		return reportedError{err}
	}
	res, err := input.Resolve(inputs, input.Source{Flags: flags, Getenv: env.Getenv, InActions: inActions})
	for _, s := range res.Secrets {
		rep.Mask(s)
	}
	if err != nil {
		return fail(exitcode.BadInput(fmt.Errorf("%w\nrun \"%s --help\" for every input", err, title)))
	}
	dir, err := env.Getwd()
	if err != nil {
		return fail(exitcode.Infra(fmt.Errorf("finding the working directory: %w", err)))
	}
	rt := &Runtime{
		Log:       slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: logLevel(env.Getenv)})),
		Report:    rep,
		Getenv:    env.Getenv,
		Dir:       dir,
		Stdin:     env.Stdin,
		Stdout:    env.Stdout,
		Stderr:    env.Stderr,
		Now:       time.Now,
		HTTP:      timeouts.Config{}.Client(""),
		Net:       timeouts.Config{}.WithDefaults(),
		InActions: inActions,
		outputs:   c.Outputs(),
	}
	rt.ActionImage = inActionImage()
	before := len(atomicfile.Written())
	if err := c.Run(ctx, rt); err != nil {
		if sig := interrupt.Of(ctx); sig != nil {
			err = interrupted(sig, atomicfile.Written()[before:], dir, err)
		} else if ctx.Err() != nil {
			err = exitcode.Infra(fmt.Errorf("%s interrupted: %w", c.Name(), err))
		}
		return fail(err)
	}
	return nil
}

// interrupted is the error of a command stopped by a signal: the signal,
// what the command had written (complete files only: every write is atomic)
// and its exit code, 128 + the signal's number.
func interrupted(sig *interrupt.Signal, written []string, dir string, cause error) error {
	var what string
	switch len(written) {
	case 0:
		what = "nothing was written"
	default:
		names := make([]string, len(written))
		for i, p := range written {
			if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
			names[i] = fmt.Sprintf("%q", p)
		}
		what = fmt.Sprintf("%d complete file(s) were written before it stopped (%s), the stage's results are incomplete", len(written), strings.Join(names, ", "))
	}
	return &exitcode.Error{Code: sig.Code(), Err: fmt.Errorf("%w; %s and no half-written file was left; run it again to finish (it stopped in: %v)", sig, what, cause)}
}

// logLevel is debug when the runner runs with debug logging (ACTIONS_STEP_DEBUG
// or RUNNER_DEBUG) or SLIPWAY_DEBUG is set, info otherwise.
func logLevel(getenv func(string) string) slog.Level {
	for _, k := range []string{"SLIPWAY_DEBUG", "RUNNER_DEBUG", "ACTIONS_STEP_DEBUG"} {
		if v := getenv(k); v == "1" || v == "true" {
			return slog.LevelDebug
		}
	}
	return slog.LevelInfo
}
