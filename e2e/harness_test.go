package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Scenario is one act run: a workflow from testdata/workflows run against a fresh copy of a sample project.
type Scenario struct {
	// Workflow is the workflow file, relative to the e2e directory (e.g. "testdata/workflows/foundation.yml").
	// It is copied to the project's .github/workflows/ and its top-level name: gets a unique suffix.
	Workflow string
	// Event is the event act triggers; "workflow_dispatch" when empty.
	Event string
	// Source is the project directory, relative to the e2e directory; "testdata/sample" when empty. It becomes
	// a one-commit git repository that the workflow's actions/checkout step copies.
	Source string
	// Files are written into the copied project before its commit (path relative to the project → content), to
	// make one run build something different from another.
	Files map[string]string
	// Inputs are the workflow_dispatch inputs (act --input): not for secrets.
	Inputs map[string]string
	// Env is set for every step (act --env): not for secrets, act's arguments show them.
	Env map[string]string
	// Secrets reach the workflow as ${{ secrets.NAME }} through a mode 0600 file (act --secret-file): never in
	// act's arguments or environment, masked in its log.
	Secrets map[string]string
	// RunnerEnv is what the runner itself gives every step and action container (e.g. the OIDC token
	// endpoint's ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN): set in act's environment, which act copies to all of
	// them, so that it stays out of act's arguments.
	RunnerEnv map[string]string
	// HostTools names programs (e.g. "go") whose directories are added to the PATH of run: steps, which run on
	// this machine. Without it run: steps see only the system directories.
	HostTools []string
	// RunnerUID, when not 0, is the uid (and gid) of the runner's user, as on a self-hosted runner that does not
	// run as root: act runs as that user, so the job's workspace, its run: steps and the file-command files
	// ($GITHUB_OUTPUT, ...) are that user's, while Docker actions still start as root (runner_user_test.go).
	// 0: act runs as root, like a root runner.
	RunnerUID int
	// Vars are the repository's configuration variables, ${{ vars.NAME }} (act --var): not for secrets.
	Vars map[string]string
	// EventPath is the event payload act triggers with (act --eventpath), e.g. a push's "ref"; none when empty.
	EventPath string
	// Repository is the GitHub repository the project claims to be (its origin remote, act's
	// GITHUB_REPOSITORY); SampleRepository when empty.
	Repository string
	// Setup, when set, runs after the project's commit and before act, with the project's directory: to tag
	// it, clone it, or write the event payload.
	Setup func(t *testing.T, src string)
	// NoImage skips building the action image, for workflows that run no Docker action.
	NoImage bool
	// Binds are more host directories mounted into every Docker action container at the same path (act
	// --container-options -v D:D), as a headnode's shared filesystem is one path for the runner and the nodes
	// (the Slurm tests' shared workdir). T is always mounted.
	Binds []string
	// Timeout bounds the act run; 10 minutes when zero.
	Timeout time.Duration
	// Suffix, when set, is the suffix of the workflow's and its jobs' names (uniqueName) instead of a new one:
	// runs that must look like runs of one workflow to a service they report to (the report action's
	// fingerprint names the workflow) share one from runSuffix. Such runs must not overlap.
	Suffix string
}

// Result is what an act run left: job and step results, step outputs, and what the workflow wrote for the test.
type Result struct {
	// Dir is the run's directory T (project copy in T/src, act's files in T/act, the log in T/act.jsonl),
	// bind-mounted into every action container.
	Dir string
	// Out is $SLIPWAY_OUT (T/out): a workflow step may copy files there for the test to read.
	Out string
	// Err is act's exit error: nil when every job succeeded.
	Err error
	// Jobs maps each job ID to its result as act logged it ("success", "failure").
	Jobs map[string]string
	// Steps lists every step act ran, in order.
	Steps []StepResult
	// Values holds the name=value lines the workflow wrote to $SLIPWAY_RESULT.
	Values map[string]string

	outputs map[string]map[string]string // "jobID/stepID" → output name → value
	lines   []logLine
}

// StepResult is one step as act logged it.
type StepResult struct {
	JobID, StepID, Name, Result string
}

// Run runs s with act and returns what it left. It fails the test when act cannot be started or its log cannot
// be read, not when a job fails: check Result.Err (or call RequireSuccess). It skips or fails (per
// SLIPWAY_REQUIRE_TOOLS) when act, git, Podman or its Docker API socket is missing.
func Run(t *testing.T, s Scenario) *Result {
	t.Helper()
	env := requireEnv(t)
	if !s.NoImage {
		ensureImage(t, env)
	}

	T := t.TempDir()
	r := &Result{Dir: T, Out: filepath.Join(T, "out")}
	src := filepath.Join(T, "src")
	home := filepath.Join(T, "home")
	for _, d := range []string{r.Out, home, filepath.Join(T, "act")} {
		mustMkdir(t, d)
	}
	suffix := s.Suffix
	if suffix == "" {
		suffix = runSuffix()
	}
	wf := prepareSource(t, env, s, src, home, suffix)
	if s.Setup != nil {
		s.Setup(t, src)
	}
	repo := copyRepo(t, env.repoRoot, filepath.Join(T, "repo"))
	secrets := writeSecrets(t, s.Secrets, filepath.Join(t.TempDir(), "secrets.yml"))
	resultFile := filepath.Join(r.Out, "result")
	var user *runnerUser
	if s.RunnerUID != 0 {
		user = asRunnerUser(t, s.RunnerUID, T, &env, &secrets)
	}

	event := s.Event
	if event == "" {
		event = "workflow_dispatch"
	}
	opts := fmt.Sprintf("-v %s:%s --network host", T, T)
	for _, d := range s.Binds {
		opts += fmt.Sprintf(" -v %s:%s", d, d)
	}
	args := []string{event,
		"-C", src, "-W", wf,
		"--pull=false", "--no-cache-server", "--json",
		"--action-cache-path", filepath.Join(T, "act"),
		"--container-daemon-socket", "-",
		"--container-options", opts,
		"--local-repository", "slipway/actions@v1=" + repo,
		"--secret-file", secrets,
	}
	for _, a := range githubStandIns(t, filepath.Join(T, "standins")) {
		args = append(args, "--local-repository", a)
	}
	args = append(args,
		"--env", "SLIPWAY_RESULT="+resultFile,
		"--env", "SLIPWAY_OUT="+r.Out,
	)
	for _, label := range runnerLabels {
		args = append(args, "-P", label+"=-self-hosted")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Inputs)) {
		args = append(args, "--input", k+"="+s.Inputs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		args = append(args, "--env", k+"="+s.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Vars)) {
		args = append(args, "--var", k+"="+s.Vars[k])
	}
	if s.EventPath != "" {
		args = append(args, "--eventpath", s.EventPath)
	}

	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.act, args...)
	cmd.Dir = T
	cmd.Env = actEnv(t, env, home, s.HostTools, s.RunnerEnv)
	cmd.Stdin = nil // /dev/null
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if user != nil {
		cmd.SysProcAttr = user.attr
	}
	logPath := filepath.Join(T, "act.jsonl")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile

	unlock := func() {}
	if !s.NoImage {
		unlock = lockMachine(t, false)
	}
	start := time.Now()
	r.Err = cmd.Run()
	elapsed := time.Since(start)
	unlock()
	logFile.Close()
	t.Logf("act %s %s: %s, exit: %v (log: %s)", event, s.Workflow, elapsed.Round(100*time.Millisecond), r.Err, logPath)
	if ctx.Err() != nil {
		t.Fatalf("act did not finish within %s; log tail:\n%s", timeout, r.tail(logPath, 60))
	}
	if err := r.parse(logPath); err != nil {
		t.Fatalf("reading act's log: %v", err)
	}
	if err := r.readValues(resultFile); err != nil {
		t.Fatalf("reading $SLIPWAY_RESULT: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("act log of %s (last lines):\n%s", s.Workflow, r.tail(logPath, 150))
		}
	})
	return r
}

// runnerLabels are the runs-on labels that act maps to this machine (-self-hosted). act runs a job whose runs-on
// is a list of labels on the platform of the first label it knows, and skips a job none of whose labels it knows:
// "self-hosted" stands for a self-hosted runner set such as ["self-hosted", "linux", "slurm"].
var runnerLabels = []string{"ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04", "self-hosted"}

// RequireSuccess fails the test unless every job succeeded.
func (r *Result) RequireSuccess(t *testing.T) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("act failed: %v; jobs: %v; failed steps: %v", r.Err, r.Jobs, r.FailedSteps())
	}
}

// FailedSteps lists the steps that did not succeed, as "jobID/stepID (name)".
func (r *Result) FailedSteps() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Result != "success" && s.Result != "skipped" {
			out = append(out, fmt.Sprintf("%s/%s (%s): %s", s.JobID, s.StepID, s.Name, s.Result))
		}
	}
	return out
}

// Output returns the output name that step stepID of job jobID set ("" if none).
func (r *Result) Output(jobID, stepID, name string) string {
	return r.outputs[jobID+"/"+stepID][name]
}

// Value returns the value the workflow wrote for name to $SLIPWAY_RESULT, failing the test if there is none.
func (r *Result) Value(t *testing.T, name string) string {
	t.Helper()
	v, ok := r.Values[name]
	if !ok {
		t.Fatalf("the workflow wrote no %q to $SLIPWAY_RESULT (it wrote %v)", name, slices.Sorted(maps.Keys(r.Values)))
	}
	return v
}

// OutPath returns the path of a file the workflow copied to $SLIPWAY_OUT.
func (r *Result) OutPath(name string) string { return filepath.Join(r.Out, name) }

// Logged reports whether some message in act's log (an action's own output, a step's) contains s.
func (r *Result) Logged(s string) bool {
	return slices.ContainsFunc(r.lines, func(l logLine) bool { return strings.Contains(l.Msg, s) })
}

// logLine is one line of act --json output (fields as act's logrus JSON formatter writes them).
type logLine struct {
	Msg        string   `json:"msg"`
	Level      string   `json:"level"`
	Job        string   `json:"job"`
	JobID      string   `json:"jobID"`
	Step       string   `json:"step"`
	StepID     []string `json:"stepID"`
	StepResult string   `json:"stepResult"`
	JobResult  string   `json:"jobResult"`
	Command    string   `json:"command"`
	Name       string   `json:"name"`
	Arg        string   `json:"arg"`
	raw        string
}

// parseLog reads act's --json log: one JSON object per line; other lines (act's own warnings on stderr) are
// kept as messages.
func parseLog(data string) []logLine {
	var lines []logLine
	for _, raw := range strings.Split(data, "\n") {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			l = logLine{Msg: raw}
		}
		l.raw = raw
		lines = append(lines, l)
	}
	return lines
}

func (r *Result) parse(path string) error {
	data, err := os.ReadFile(path) // act's log, not an artifact: small
	if err != nil {
		return err
	}
	r.collect(parseLog(string(data)))
	if len(r.Jobs) == 0 {
		return fmt.Errorf("act logged no job result; log tail:\n%s", r.tail(path, 40))
	}
	return nil
}

// collect fills the job and step results and the step outputs from act's log lines.
func (r *Result) collect(lines []logLine) {
	r.lines = lines
	r.Jobs = map[string]string{}
	r.outputs = map[string]map[string]string{}
	for _, l := range lines {
		switch {
		case l.JobResult != "":
			r.Jobs[l.JobID] = l.JobResult
		case l.StepResult != "" && len(l.StepID) > 0:
			r.Steps = append(r.Steps, StepResult{JobID: l.JobID, StepID: strings.Join(l.StepID, "/"), Name: l.Step, Result: l.StepResult})
		case l.Command == "set-output" && len(l.StepID) > 0:
			key := l.JobID + "/" + strings.Join(l.StepID, "/")
			if r.outputs[key] == nil {
				r.outputs[key] = map[string]string{}
			}
			r.outputs[key][l.Name] = l.Arg
		}
	}
}

// parseValues reads name=value lines; a name may repeat (the last wins).
func parseValues(data string) (map[string]string, error) {
	vals := map[string]string{}
	for i, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validName.MatchString(k) {
			return nil, fmt.Errorf("line %d: %q is not name=value", i+1, line)
		}
		vals[k] = v
	}
	return vals, nil
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

func (r *Result) readValues(path string) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		r.Values = map[string]string{}
		return nil
	}
	if err != nil {
		return err
	}
	r.Values, err = parseValues(string(data))
	return err
}

// tail renders the last n lines of act's log as act prints them to a terminal.
func (r *Result) tail(path string, n int) string {
	lines := r.lines
	if lines == nil {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Sprintf("(reading %s: %v)", path, err)
		}
		lines = parseLog(string(data))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		if l.Job != "" {
			fmt.Fprintf(&b, "[%s] ", l.Job)
		}
		b.WriteString(strings.TrimRight(l.Msg, "\n"))
		b.WriteByte('\n')
	}
	return b.String()
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// githubActions are GitHub's own actions that the release workflow uses only in steps the e2e runs skip (the
// Actions cache, workflow artifacts: services act does not have here), each with its sub-actions.
var githubActions = map[string][]string{"actions/cache@v4": {"restore"}, "actions/upload-artifact@v4": {""}}

// githubStandIns writes, under dir, one stand-in per githubActions entry and returns act's --local-repository
// values for them. act fetches the action of every step before the job starts, even of a step whose if: is
// false, and GitHub cannot be reached here; a stand-in satisfies that fetch, and fails the step, naming itself,
// if a run ever gets to execute it.
func githubStandIns(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, repoRef := range slices.Sorted(maps.Keys(githubActions)) {
		repo, _, _ := strings.Cut(repoRef, "@")
		root := filepath.Join(dir, strings.ReplaceAll(repo, "/", "-"))
		for _, sub := range githubActions[repoRef] {
			d := filepath.Join(root, sub)
			mustMkdir(t, d)
			doc := "name: e2e stand-in for " + repoRef + "\n" +
				"description: act fetches the actions of skipped steps too; GitHub is not reachable from the e2e tests.\n" +
				"runs:\n  using: composite\n  steps:\n" +
				"    - shell: sh\n      run: |\n        echo '::error::the e2e stand-in for " + repoRef + " ran: this scenario must not run it'\n        exit 1\n"
			if err := os.WriteFile(filepath.Join(d, "action.yml"), []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, repoRef+"="+root)
	}
	return out
}
