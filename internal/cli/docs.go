package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/slipway/actions/internal/input"
)

// Image is the image the actions on main run: publish.yml builds it from
// every push to main and moves this tag. A release commit runs its own image
// by digest instead (PinFile, docs/releasing.md).
const Image = "ghcr.io/slipway/actions:main"

const generatedHeader = "# Generated from the stage's input table by `go test ./internal/cli -run TestGenerated -update`; do not edit.\n"

// ActionYAML renders actions/<name>/action.yml for c, running image.
func ActionYAML(c Command, image string) string {
	var b strings.Builder
	b.WriteString(generatedHeader)
	fmt.Fprintf(&b, "name: %s\n", q("Slipway "+actionDir(c)))
	fmt.Fprintf(&b, "description: %s\n", q(c.Short()))
	b.WriteString("author: Slipway\nbranding:\n  icon: anchor\n  color: blue\n")
	writeInputs(&b, c.Inputs(), true)
	writeOutputs(&b, c.Outputs())
	fmt.Fprintf(&b, "runs:\n  using: docker\n  image: %s\n  args:\n    - %s\n", q("docker://"+image), c.Name())
	return b.String()
}

// RootActionYAML renders the repository's root action.yml: one action that
// runs the stage named by its "stage" input (the whole pipeline by default)
// and accepts the inputs of every stage. It declares no defaults besides
// "stage", so each stage applies its own. It runs image.
func RootActionYAML(cmds []Command, defaultStage, image string) string {
	var b strings.Builder
	b.WriteString(generatedHeader)
	b.WriteString("name: Slipway\n")
	b.WriteString("description: \"Build, describe, sign, attest and publish artifacts with proof at every step: runs one Slipway stage, or the whole pipeline.\"\n")
	b.WriteString("author: Slipway\nbranding:\n  icon: anchor\n  color: blue\n")
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	stage := input.Spec{Name: "stage", Default: defaultStage, Description: "The stage to run: " + strings.Join(names, ", ") + "."}
	var all []input.Input
	all = append(all, input.String(new(string), stage))
	seenIn := map[string]int{"stage": 0}
	// Inputs shared by stages keep one description when they mean the same
	// everywhere; otherwise each stage says what the input means there.
	meanings := map[string][]string{}
	var outs []input.Output
	seenOut := map[string]int{}
	for _, c := range cmds {
		for _, in := range c.Inputs() {
			m := c.Name() + ": " + in.Description
			if _, ok := seenIn[in.Name]; ok {
				if !slices.ContainsFunc(meanings[in.Name], func(s string) bool { return strings.HasSuffix(s, ": "+in.Description) }) {
					meanings[in.Name] = append(meanings[in.Name], m)
				}
				continue
			}
			seenIn[in.Name] = len(all)
			meanings[in.Name] = []string{m}
			in.Default = ""
			in.Required = false
			all = append(all, in)
		}
		for _, o := range c.Outputs() {
			o.Description = c.Name() + ": " + o.Description
			if i, ok := seenOut[o.Name]; ok {
				outs[i].Description += " " + o.Description
				continue
			}
			seenOut[o.Name] = len(outs)
			outs = append(outs, o)
		}
	}
	for i, in := range all[1:] {
		if ms := meanings[in.Name]; len(ms) > 1 {
			all[1+i].Description = strings.Join(ms, " ")
		}
	}
	sort.SliceStable(all[1:], func(i, j int) bool { return all[1+i].Name < all[1+j].Name })
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].Name < outs[j].Name })
	writeInputs(&b, all, false)
	writeOutputs(&b, outs)
	fmt.Fprintf(&b, "runs:\n  using: docker\n  image: %s\n  args:\n    - ${{ inputs.stage }}\n", q("docker://"+image))
	return b.String()
}

func writeInputs(b *strings.Builder, inputs []input.Input, withDefaults bool) {
	if len(inputs) == 0 {
		return
	}
	b.WriteString("inputs:\n")
	for _, in := range inputs {
		desc := in.Description
		if in.Secret {
			desc += " Secret: pass it from `secrets`, never inline."
		}
		fmt.Fprintf(b, "  %s:\n    description: %s\n    required: %t\n", in.Name, q(desc), in.Required && withDefaults)
		if def := cmp.Or(in.ActionDefault, in.Default); def != "" {
			fmt.Fprintf(b, "    default: %s\n", q(def))
		}
	}
}

func writeOutputs(b *strings.Builder, outs []input.Output) {
	if len(outs) == 0 {
		return
	}
	b.WriteString("outputs:\n")
	for _, o := range outs {
		fmt.Fprintf(b, "  %s:\n    description: %s\n", o.Name, q(o.Description))
	}
}

// q quotes s as a YAML double-quoted scalar (JSON strings are valid ones).
func q(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}

// ReadmeStages renders the README's table of stages with their inputs and
// outputs.
func ReadmeStages(cmds []Command) string {
	var b strings.Builder
	b.WriteString("| Stage | Action | What it does | Inputs | Outputs |\n| --- | --- | --- | --- | --- |\n")
	for _, c := range cmds {
		var ins, outs []string
		for _, in := range c.Inputs() {
			s := "`" + in.Name + "`"
			if in.Required {
				s += "*"
			}
			if in.Secret {
				s += " (secret)"
			}
			ins = append(ins, s)
		}
		for _, o := range c.Outputs() {
			outs = append(outs, "`"+o.Name+"`")
		}
		fmt.Fprintf(&b, "| `slipway %s` | `%s` | %s | %s | %s |\n",
			c.Name(), actionRef(c), strings.ReplaceAll(c.Short(), "|", `\|`), strings.Join(ins, ", "), strings.Join(outs, ", "))
	}
	return b.String()
}

// ReadmeInputs renders one stage's input and output reference for the README.
func ReadmeInputs(c Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### `%s`\n\n%s\n\n| Input / flag | Default | Description |\n| --- | --- | --- |\n", c.Name(), c.Short())
	for _, in := range c.Inputs() {
		name := "`" + in.Name + "`"
		if in.Secret {
			name = "`" + in.Name + "` (secret, env `" + in.Env + "`)"
		} else {
			name = "`" + in.Name + "` / `--" + in.Name + "`"
		}
		def := ""
		if in.Default != "" {
			def = "`" + in.Default + "`"
		}
		if in.ActionDefault != "" {
			def = strings.TrimPrefix(def+"; ", "; ") + "action: `" + in.ActionDefault + "`"
		}
		if in.Required {
			def = "required"
		}
		d := in.Description
		if in.Env != "" && !in.Secret {
			d += " Env: `" + in.Env + "`."
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, def, strings.ReplaceAll(d, "|", `\|`))
	}
	if outs := c.Outputs(); len(outs) > 0 {
		b.WriteString("\n| Output | Description |\n| --- | --- |\n")
		for _, o := range outs {
			fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, strings.ReplaceAll(o.Description, "|", `\|`))
		}
	}
	return b.String()
}

// actionRef is how a workflow uses c: the repository's root action for the
// pipeline, the action in the repository's directory actions/<name> for a
// stage (owner/repo/path@ref, hence slipway/actions/actions/<name>).
func actionRef(c Command) string {
	if !hasAction(c) {
		return "slipway/actions@v1"
	}
	return "slipway/actions/actions/" + actionDir(c) + "@v1"
}

// actionDir is the directory under actions/ of c's action: the command's
// name unless c names its action otherwise (upload's is mcp-upload).
func actionDir(c Command) string {
	if a, ok := c.(interface{ ActionName() string }); ok {
		return a.ActionName()
	}
	return c.Name()
}

// hasAction reports whether c gets its own actions/<name>/action.yml. The
// whole pipeline is the repository's root action instead.
func hasAction(c Command) bool {
	r, ok := c.(interface{ RootOnly() bool })
	return !ok || !r.RootOnly()
}
