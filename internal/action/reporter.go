package action

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Reporter receives what a run reports to its caller.
type Reporter interface {
	// Mask hides secret in all later log output (each line of a
	// multi-line secret separately).
	Mask(secret string)
	// Output records a named output of the step.
	Output(name, value string) error
	// Group starts a log section; the returned func ends it.
	Group(title string) (end func())
	// Summary appends a summary of the run.
	Summary(s Summary) error
	// Error reports a failure, pointing at file when it is not empty.
	Error(title, msg, file string)
	// ErrorAt reports a failure at a line of a file (a failed test where
	// its report says).
	ErrorAt(title, msg string, at Location)
	// Warning reports something the user should look at.
	Warning(msg string)
}

// Location is a place in a file of the workspace.
type Location struct {
	File string
	Line int // 1-based; 0 when unknown
}

func (l Location) String() string {
	if l.Line > 0 {
		return l.File + ":" + strconv.Itoa(l.Line)
	}
	return l.File
}

// Config selects and configures a Reporter.
type Config struct {
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Stdout receives outputs (CLI) and workflow commands (Actions).
	Stdout io.Writer
	// Stderr receives human-readable text on the command line.
	Stderr io.Writer
}

// InActions reports whether the process runs as a GitHub Actions step.
func InActions(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// New returns the Actions reporter inside GitHub Actions and the CLI
// reporter elsewhere.
func New(c Config) Reporter {
	if InActions(c.Getenv) {
		return &Actions{gh: githubactions.New(githubactions.WithGetenv(c.Getenv), githubactions.WithWriter(c.Stdout))}
	}
	return &CLI{Stdout: c.Stdout, Stderr: c.Stderr}
}

// Actions reports through GitHub Actions workflow commands and files.
type Actions struct {
	gh *githubactions.Action
}

// Mask implements Reporter.
func (a *Actions) Mask(secret string) {
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			a.gh.AddMask(line)
		}
	}
}

// Output implements Reporter. The value goes to $GITHUB_OUTPUT.
func (a *Actions) Output(name, value string) error {
	if a.gh.Getenv("GITHUB_OUTPUT") == "" {
		return fmt.Errorf("writing output %q: GITHUB_OUTPUT is not set; is this running as a GitHub Actions step?", name)
	}
	return fileCommand(func() { a.gh.SetOutput(name, value) }, "output "+name)
}

// Group implements Reporter.
func (a *Actions) Group(title string) func() {
	a.gh.Group(title)
	return a.gh.EndGroup
}

// Summary implements Reporter. The Markdown goes to $GITHUB_STEP_SUMMARY
// when the runner provides it.
func (a *Actions) Summary(s Summary) error {
	if a.gh.Getenv("GITHUB_STEP_SUMMARY") == "" {
		return nil
	}
	return fileCommand(func() { a.gh.AddStepSummary(s.Markdown()) }, "step summary")
}

// Error implements Reporter with an ::error:: annotation.
func (a *Actions) Error(title, msg, file string) {
	fields := map[string]string{"title": title}
	if file != "" {
		fields["file"] = file
	}
	a.gh.WithFieldsMap(fields).Errorf("%s", msg)
}

// ErrorAt implements Reporter with an ::error file=…,line=…:: annotation.
func (a *Actions) ErrorAt(title, msg string, at Location) {
	fields := map[string]string{"title": title, "file": at.File}
	if at.Line > 0 {
		fields["line"] = strconv.Itoa(at.Line)
	}
	a.gh.WithFieldsMap(fields).Errorf("%s", msg)
}

// Warning implements Reporter with a ::warning:: annotation.
func (a *Actions) Warning(msg string) { a.gh.Warningf("%s", msg) }

// fileCommand runs a go-githubactions file command, which panics when the
// file cannot be written, and turns that panic into an error.
func fileCommand(f func(), what string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writing %s for GitHub Actions: %v; check that the runner's file-command directory is writable by the container user", what, r)
		}
	}()
	f()
	return nil
}

// CLI reports on the command line: outputs as name=value lines on stdout,
// everything else as text on stderr.
type CLI struct {
	Stdout io.Writer
	Stderr io.Writer
}

// Mask implements Reporter. Nothing is masked on a terminal; secrets are
// never printed in the first place.
func (c *CLI) Mask(string) {}

// Output implements Reporter. Multi-line values use the heredoc form of
// $GITHUB_OUTPUT so that the lines can be parsed back.
func (c *CLI) Output(name, value string) error {
	var err error
	if strings.Contains(value, "\n") {
		_, err = fmt.Fprintf(c.Stdout, "%s<<EOF_SLIPWAY\n%s\nEOF_SLIPWAY\n", name, value)
	} else {
		_, err = fmt.Fprintf(c.Stdout, "%s=%s\n", name, value)
	}
	return err
}

// Group implements Reporter.
func (c *CLI) Group(title string) func() {
	fmt.Fprintf(c.Stderr, "==> %s\n", title)
	return func() {}
}

// Summary implements Reporter.
func (c *CLI) Summary(s Summary) error {
	_, err := io.WriteString(c.Stderr, s.Text())
	return err
}

// Error implements Reporter.
func (c *CLI) Error(title, msg, file string) {
	if file != "" && !namesFile(msg, file) {
		fmt.Fprintf(c.Stderr, "%s: %s: %s\n", title, file, msg)
		return
	}
	fmt.Fprintf(c.Stderr, "%s: %s\n", title, msg)
}

// ErrorAt implements Reporter.
func (c *CLI) ErrorAt(title, msg string, at Location) {
	if loc := at.String(); loc != "" && !strings.HasPrefix(msg, loc+":") {
		fmt.Fprintf(c.Stderr, "%s: %s: %s\n", title, loc, msg)
		return
	}
	// go test's own messages start with FILE:LINE already.
	fmt.Fprintf(c.Stderr, "%s: %s\n", title, msg)
}

// Warning implements Reporter.
func (c *CLI) Warning(msg string) { fmt.Fprintf(c.Stderr, "warning: %s\n", msg) }

// namesFile reports whether msg already names file (as given, or by its
// base name, as errors that carry the resolved absolute path do), so that
// the command line does not print the path twice.
func namesFile(msg, file string) bool {
	return strings.Contains(msg, file) || strings.Contains(msg, filepath.Base(file))
}
