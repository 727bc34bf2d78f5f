package cli

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/slipway/actions/internal/build"
	"github.com/slipway/actions/internal/exitcode"
)

// check checks the inputs of every stage the pipeline will run, and what
// each needs from the machine and the environment (declared toolchains,
// ptrace, keys, a keyless token, the builder's identity, the trust
// policy, the reference), before the first stage starts: a self-hosted
// runner without builder-id must not learn it after the build and the
// signatures. Every problem is reported, at once. What a stage derives
// from the build (its manifest) is stood in for by the path the build will
// write.
func (c *pipelineCommand) check(ctx context.Context, rt *Runtime) error {
	st := c.newStages() // bound to this check only
	outDir := c.value("output-dir")
	if outDir == "" {
		outDir = build.DefaultOutputDir
	}
	manifest := path.Join(outDir, build.ManifestFile)
	type planned struct {
		cmd Command
		set map[string]string
	}
	steps := []planned{{st.build, nil}}
	if c.tests() {
		steps = append(steps, planned{st.test, map[string]string{"manifest": manifest}})
	}
	steps = append(steps, planned{st.sbom, map[string]string{"subject": manifest, "manifest": manifest}})
	if c.scans() {
		steps = append(steps, planned{st.scan, map[string]string{"manifest": manifest}})
	}
	if c.signs() {
		steps = append(steps, planned{st.sign, map[string]string{"manifest": manifest}})
	}
	if c.sigstore() {
		steps = append(steps, planned{st.attest, map[string]string{"manifest": manifest}})
	}
	if c.value("policy") != "" {
		steps = append(steps, planned{st.verify, map[string]string{"manifest": manifest}})
	}
	if c.value("ref") != "" {
		steps = append(steps, planned{st.push, map[string]string{"manifest": manifest}})
	}
	if c.value("server") != "" && st.upload != nil {
		steps = append(steps, planned{st.upload, map[string]string{"manifest": manifest}})
	}
	var (
		messages []string                // in the order found
		stages   = map[string][]string{} // message → the stages that have it (sign and attest share the key)
		code     = exitcode.Usage
	)
	for _, s := range steps {
		err := c.checkStage(ctx, rt, s.cmd, s.set)
		if err == nil {
			continue
		}
		if exitcode.Of(err) == exitcode.Internal {
			code = exitcode.Internal
		}
		msg := err.Error()
		if _, seen := stages[msg]; !seen {
			messages = append(messages, msg)
		}
		if names := stages[msg]; len(names) == 0 || names[len(names)-1] != s.cmd.Name() {
			stages[msg] = append(names, s.cmd.Name())
		}
	}
	if len(messages) == 0 {
		return nil
	}
	problems := make([]string, len(messages))
	for i, msg := range messages {
		problems[i] = fmt.Sprintf("slipway %s: %s", strings.Join(stages[msg], ", "), msg)
	}
	err := fmt.Errorf("the pipeline's inputs have %d problem(s), found before any stage ran; nothing was built:\n%s", len(problems), strings.Join(problems, "\n"))
	if code == exitcode.Internal {
		return exitcode.Infra(err)
	}
	return exitcode.BadInput(err)
}

// checkStage resolves cmd's inputs as the pipeline will give them and runs
// its Check, when it has one.
func (c *pipelineCommand) checkStage(ctx context.Context, rt *Runtime, cmd Command, set map[string]string) error {
	getenv, err := c.resolve(rt, cmd, cmd.Inputs(), set)
	if err != nil {
		return exitcode.BadInput(err)
	}
	ck, ok := cmd.(checker)
	if !ok {
		return nil
	}
	child := *rt
	child.Getenv = getenv
	return ck.Check(ctx, &child)
}
