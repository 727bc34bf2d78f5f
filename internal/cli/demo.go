package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/demo"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
)

// demoCommand runs the whole pipeline on the embedded sample project with
// embedded defaults: a throwaway key, an in-process registry, no network;
// then uploads the release to an in-process control plane (slipway serve
// on a loopback port) and verifies the manifest again with the receipt it
// returned, offline. It is a command-line convenience, not an action.
type demoCommand struct {
	dir string
}

func (c *demoCommand) Name() string { return "demo" }
func (c *demoCommand) Short() string {
	return "Run the whole pipeline locally on an embedded sample project: build, test, SBOM, a vulnerability scan against a database of demo records, sign and attest with a throwaway key, verify against a policy for that key, push to an in-process registry, upload to an in-process control plane and verify its receipt offline."
}

func (c *demoCommand) Inputs() []input.Input {
	return []input.Input{
		input.String(&c.dir, input.Spec{Name: "dir",
			Description: "An empty or new directory for the demo's workspace, keys and results; empty for a new temporary directory."}),
	}
}

func (c *demoCommand) Outputs() []input.Output {
	return append([]input.Output{{Name: "dir", Description: "The demo directory: workspace/ holds the sample project and its dist/, keys/ the public key, control-plane/ the control plane's data."}},
		(&pipelineCommand{}).Outputs()...)
}

func (c *demoCommand) Run(ctx context.Context, rt *Runtime) error {
	dir := c.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "slipway-demo-"); err != nil {
			return exitcode.Infra(fmt.Errorf("creating the demo directory: %w", err))
		}
	} else {
		dir = rt.path(dir)
	}
	env, err := demo.Prepare(ctx, dir)
	if err != nil {
		return exitcode.BadInput(err)
	}
	defer env.Close()
	cp, err := startDemoControlPlane(ctx, env.Dir, env.Policy)
	if err != nil {
		return err
	}
	defer cp.Close(ctx)

	p := &pipelineCommand{}
	flags := map[string]string{
		"command": demo.BuildCommand, "artifacts": demo.Artifacts, "archive": demo.Archive, "test-command": demo.TestCommand,
		"scan-db": env.DB, "tlog": "false", "ref": env.Ref(), "policy": env.Policy, "server": cp.URL,
	}
	// The upload stage sends the token only this process knows.
	secrets := map[string]string{"COSIGN_KEY": env.PrivateKey, "COSIGN_PASSWORD": env.Password, "SLIPWAY_TOKEN": cp.token}
	getenv := func(k string) string {
		if v, ok := secrets[k]; ok {
			return v
		}
		return rt.Getenv(k)
	}
	if _, err := input.Resolve(p.Inputs(), input.Source{Flags: flags, Getenv: getenv}); err != nil {
		return exitcode.Infra(fmt.Errorf("the demo's own inputs are invalid (a bug): %w", err))
	}
	child := *rt
	child.Dir, child.Getenv, child.outputs = env.Workspace, getenv, c.Outputs()
	if err := rt.Output("dir", env.Dir); err != nil {
		return err
	}
	if err := p.Run(ctx, &child); err != nil {
		return err
	}
	// The pipeline uploaded the release (slipway upload's stage); now
	// slipway verify again, requiring a receipt of the log for every
	// artifact, checked offline.
	manifest := "dist/manifest.json"
	verified := &captureReporter{Reporter: rt.Report, outputs: map[string]string{}}
	child.Report = verified
	if err := runDemoStage(ctx, &child, &verifyCommand{}, map[string]string{"manifest": manifest, "policy": cp.Policy}, rt.Getenv); err != nil {
		return err
	}
	if verified.outputs["verified"] != "true" {
		return exitcode.Infra(fmt.Errorf("the demo's release did not verify with its receipts (a bug); see the report above"))
	}
	if err := cp.Close(ctx); err != nil {
		return err
	}
	refused, err := refuseFailedTests(ctx, &child, env, rt.Getenv)
	if err != nil {
		return err
	}
	return rt.Report.Summary(action.Summary{Title: "Demo", Notes: []string{
		"Workspace: " + env.Workspace + " (the sample project; dist/ holds the manifest, SBOMs, signatures and provenance).",
		"Public key: " + env.PublicKey + " (the private key and its password existed only in memory, for this run).",
		"Trust policy: " + env.Policy + "; the same with the log's key and receipts required: " + cp.Policy + ".",
		"Check again, offline: slipway verify --manifest " + env.Workspace + "/dist/manifest.json --policy " + cp.Policy,
		"Registry: " + env.Registry + " (in-process; it stopped with the demo).",
		"Vulnerability database: " + env.DB + " (grype schema v6, written by the demo: " + demo.PassedVuln + " (low) and " + demo.IgnoredVuln +
			" (high) are demo records about the Go standard library the sample links, not real advisories).",
		"Scan: dist/manifest.vulns.sigstore.json and dist/manifest.vulns.sarif; the policy (vulnerabilities: maxSeverity medium) accepts " + demo.PassedVuln +
			" and ignores " + demo.IgnoredVuln + " until its ignore entry expires, " + fmt.Sprint(demo.IgnoreDays) + " days from now.",
		"Refused: the same artifacts with a failing test result (" + refused + "): the policy's tests section requires PASSED.",
		"Control plane: " + cp.URL + " on " + cp.Data + " (in-process, its upload token only in memory; it stopped with the demo; slipway serve --data " + cp.Data + " --policy " + env.Policy + " serves it again).",
	}})
}

// refuseFailedTests shows the policy refusing a release whose tests failed:
// a copy of the release's manifest gets a test result of the same tests
// run on the program stamped with another version (TestGreeting fails;
// slipway test with allow-failure only records it), and slipway verify of
// that manifest under the demo's policy must fail its tests check. It
// returns the copy's path.
func refuseFailedTests(ctx context.Context, rt *Runtime, env *demo.Env, getenv func(string) string) (string, error) {
	const failing = "dist/failing-tests.json"
	b, err := os.ReadFile(filepath.Join(env.Workspace, "dist", "manifest.json"))
	if err != nil {
		return "", exitcode.Infra(fmt.Errorf("reading the demo's manifest: %w", err))
	}
	if err := atomicfile.WriteFile(filepath.Join(env.Workspace, filepath.FromSlash(failing)), b, 0o644); err != nil {
		return "", exitcode.Infra(err)
	}
	secrets := func(k string) string {
		switch k {
		case "COSIGN_KEY":
			return env.PrivateKey
		case "COSIGN_PASSWORD":
			return env.Password
		}
		return getenv(k)
	}
	tested := &captureReporter{Reporter: rt.Report, outputs: map[string]string{}}
	child := *rt
	child.Report = tested
	if err := runDemoStage(ctx, &child, &testCommand{}, map[string]string{"command": demo.FailingTestCommand, "manifest": failing,
		"allow-failure": "true", "tlog": "false"}, secrets); err != nil {
		return "", err
	}
	if tested.outputs["result"] != "FAILED" {
		return "", exitcode.Infra(fmt.Errorf("the demo's failing tests gave %q, not FAILED (a bug)", tested.outputs["result"]))
	}
	verified := &captureReporter{Reporter: rt.Report, outputs: map[string]string{}}
	child.Report = verified
	err = runDemoStage(ctx, &child, &verifyCommand{}, map[string]string{"manifest": failing, "policy": env.Policy}, getenv)
	if err == nil || exitcode.Of(err) != exitcode.Failed || verified.outputs["verified"] != "false" {
		return "", exitcode.Infra(fmt.Errorf("the release with failing tests was not refused (a bug): %v", err))
	}
	return failing, nil
}
