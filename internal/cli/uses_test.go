package cli

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// What a user copies: every reference to this repository's actions and reusable workflows in these files must
// resolve to a file of the repository, and every with: (and secrets:) key next to a uses: line must be declared
// by what it names.
var copiedFiles = []string{
	"README.md", "docs/*.md", "docs/*/*.md",
	"workflows/*.yml", "workflows/*.yaml", ".github/workflows/*.yml", ".github/workflows/*.yaml",
	"action.yml", "actions/*/action.yml", "e2e/testdata/workflows/*.yml",
}

// TestCopiedUsesResolve resolves every `slipway/actions…@REF` in the README, the docs, the example callers, our
// own workflows and the action.yml files (prose, comments, YAML and Markdown code blocks alike) to an action.yml
// of this repository (owner/repo/PATH@REF: the action in directory PATH; owner/repo@REF: the root action) or to
// a reusable workflow (.github/workflows/F.yml with on: workflow_call), and checks each uses: step's with: keys
// (and a called workflow's secrets: keys) against the inputs (and secrets) it declares, required ones included.
func TestCopiedUsesResolve(t *testing.T) {
	t.Parallel()
	var files []string
	for _, g := range copiedFiles {
		m, err := filepath.Glob(filepath.Join(repoRoot, g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d files to check: %v", len(files), files)
	}
	refs, steps := 0, 0
	for _, f := range files {
		rel, _ := filepath.Rel(repoRoot, f)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range findMentions(string(data)) {
			refs++
			if _, err := resolveUses(repoRoot, m.ref); err != nil {
				t.Errorf("%s:%d: %v", rel, m.line, err)
			}
		}
		blocks := []yamlBlock{{line: 1, text: string(data)}}
		if strings.HasSuffix(f, ".md") {
			blocks = markdownYAML(string(data))
		}
		for _, b := range blocks {
			n, errs := checkUsesBlock(repoRoot, b.text)
			steps += n
			for _, err := range errs {
				t.Errorf("%s (YAML from line %d): %v", rel, b.line, err)
			}
		}
	}
	t.Logf("%d files, %d references, %d uses: steps with this repository's actions", len(files), refs, steps)
	if steps < 10 {
		t.Errorf("checked only %d uses: steps; the YAML blocks were not found", steps)
	}
}

// TestResolveUsesRejects proves that the checks above catch what a user would hit.
func TestResolveUsesRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"stage without actions/", "steps:\n  - uses: slipway/actions/build@v1\n", `no action.yml in "build"`},
		{"no ref", "steps:\n  - uses: slipway/actions/actions/build\n", "no @REF"},
		{"unknown input", "steps:\n  - uses: slipway/actions/actions/push@v1\n    with: {ref: r, token: x}\n", `"token" is not an input`},
		{"missing required", "steps:\n  - uses: slipway/actions/actions/push@v1\n    with: {manifest: m}\n", `required input "ref"`},
		{"root action input", "steps:\n  - uses: slipway/actions@v1\n    with: {stage: sign, bogus: 1}\n", `"bogus" is not an input`},
		{"not a reusable workflow", "jobs:\n  j:\n    uses: slipway/actions/.github/workflows/ci.yml@v1\n", "no on: workflow_call"},
		{"workflow outside .github/workflows", "jobs:\n  j:\n    uses: slipway/actions/workflows/release-caller.yml@v1\n", "must be in .github/workflows"},
		{"unknown secret", "jobs:\n  j:\n    uses: slipway/actions/.github/workflows/release.yml@v1\n    with: {artifacts: a, ref: r}\n    secrets: {COSIGN_KEY: x}\n", `secret "COSIGN_KEY" is not declared`},
		{"dot segments", "steps:\n  - uses: slipway/actions/actions/../actions/push@v1\n    with: {ref: r}\n", "dot segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, errs := checkUsesBlock(repoRoot, tt.yaml)
			if n != 1 || len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), tt.want) {
				t.Errorf("checked %d steps, errors %v; want one step and an error with %q", n, errs, tt.want)
			}
		})
	}
	good := "jobs:\n  j:\n    uses: slipway/actions/.github/workflows/release.yml@v1\n    with: {artifacts: a, ref: r}\n    secrets: inherit\n  k:\n    steps:\n      - uses: slipway/actions/actions/push@v1\n        with: {ref: r}\n"
	if n, errs := checkUsesBlock(repoRoot, good); n != 2 || len(errs) != 0 {
		t.Errorf("a good block: checked %d, errors %v", n, errs)
	}
	if ms := findMentions("use `slipway/actions/<stage>@v1`, not ghcr.io/slipway/actions@sha256:ab or github.com/slipway/actions/x@v1"); len(ms) != 1 {
		t.Errorf("mentions = %+v, want only the placeholder one", ms)
	} else if _, err := resolveUses(repoRoot, ms[0].ref); err == nil {
		t.Errorf("%s resolved; the stages are under actions/", ms[0].ref)
	}
}

// mention is a reference to this repository found in text.
type mention struct {
	ref  string
	line int
}

// mentionRE finds slipway/actions[/PATH]@REF not preceded by a character that would make it part of another name
// (github.com/slipway/actions/…, ghcr.io/slipway/actions@sha256:…). PATH may hold a <placeholder>.
var mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./@-])(slipway/actions(?:/[A-Za-z0-9_.<>/-]+)?@[A-Za-z0-9_.-]*)`)

func findMentions(text string) []mention {
	var out []mention
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		for _, m := range mentionRE.FindAllStringSubmatch(sc.Text(), -1) {
			out = append(out, mention{ref: m[1], line: n})
		}
	}
	return out
}

// usesTarget is what a uses: reference names: its declared inputs (name → required without a default) and, for
// a reusable workflow, its secrets.
type usesTarget struct {
	file    string
	inputs  map[string]bool
	secrets map[string]bool // nil for an action
}

// resolveUses resolves "slipway/actions[/PATH]@REF" against the repository at root. A <placeholder> in PATH
// stands for any one directory name; at least one must resolve.
func resolveUses(root, uses string) (usesTarget, error) {
	p, ref, ok := strings.Cut(uses, "@")
	if !ok || ref == "" {
		return usesTarget{}, fmt.Errorf("%q has no @REF: write slipway/actions/actions/<stage>@v1", uses)
	}
	p, _ = strings.CutPrefix(strings.TrimPrefix(p, "slipway/actions"), "/")
	if slices.Contains(strings.Split(p, "/"), "..") || slices.Contains(strings.Split(p, "/"), ".") {
		return usesTarget{}, fmt.Errorf("%q: a dot segment in the path", uses)
	}
	if strings.ContainsAny(p, "<>") {
		pattern := regexp.MustCompile(`<[^>/]*>`).ReplaceAllString(p, "*")
		matches, _ := filepath.Glob(filepath.Join(root, pattern, "action.yml"))
		if len(matches) == 0 {
			return usesTarget{}, fmt.Errorf("%q: no action.yml in %q; the stages are slipway/actions/actions/<stage>@v1", uses, pattern)
		}
		return usesTarget{file: matches[0]}, nil
	}
	if ext := path.Ext(p); ext == ".yml" || ext == ".yaml" {
		if path.Dir(p) != ".github/workflows" {
			return usesTarget{}, fmt.Errorf("%q: a reusable workflow must be in .github/workflows", uses)
		}
		return readWorkflowCall(filepath.Join(root, p), uses)
	}
	for _, name := range []string{"action.yml", "action.yaml"} {
		f := filepath.Join(root, p, name)
		if _, err := os.Stat(f); err == nil {
			return readAction(f, uses)
		}
	}
	if p == "" {
		p = "."
	}
	return usesTarget{}, fmt.Errorf("%q: no action.yml in %q of this repository; the stages are slipway/actions/actions/<stage>@v1", uses, p)
}

type declared map[string]struct {
	Required bool `yaml:"required"`
	Default  any  `yaml:"default"`
}

func (d declared) required() map[string]bool {
	out := map[string]bool{}
	for k, v := range d {
		out[k] = v.Required && (v.Default == nil || v.Default == "")
	}
	return out
}

func readAction(file, uses string) (usesTarget, error) {
	var a struct {
		Inputs declared `yaml:"inputs"`
		Runs   struct {
			Using string `yaml:"using"`
		} `yaml:"runs"`
	}
	if err := readYAML(file, &a); err != nil {
		return usesTarget{}, fmt.Errorf("%q: %w", uses, err)
	}
	if a.Runs.Using == "" {
		return usesTarget{}, fmt.Errorf("%q: %s has no runs.using", uses, file)
	}
	return usesTarget{file: file, inputs: a.Inputs.required()}, nil
}

func readWorkflowCall(file, uses string) (usesTarget, error) {
	var w struct {
		On map[string]*struct {
			Inputs  declared `yaml:"inputs"`
			Secrets declared `yaml:"secrets"`
		} `yaml:"on"`
	}
	if err := readYAML(file, &w); err != nil {
		var s struct {
			On any `yaml:"on"`
		}
		if readYAML(file, &s) == nil { // on: push, on: [push, pull_request]
			return usesTarget{}, fmt.Errorf("%q: %s has no on: workflow_call", uses, file)
		}
		return usesTarget{}, fmt.Errorf("%q: %w", uses, err)
	}
	call, ok := w.On["workflow_call"]
	if !ok {
		return usesTarget{}, fmt.Errorf("%q: %s has no on: workflow_call", uses, file)
	}
	t := usesTarget{file: file, inputs: map[string]bool{}, secrets: map[string]bool{}}
	if call != nil {
		t.inputs, t.secrets = call.Inputs.required(), call.Secrets.required()
	}
	return t, nil
}

func readYAML(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(data, v)
}

// yamlBlock is a YAML text and the line of the file it starts on.
type yamlBlock struct {
	line int
	text string
}

// markdownYAML returns the fenced ```yaml and ```yml blocks of a Markdown document.
func markdownYAML(doc string) []yamlBlock {
	var out []yamlBlock
	var cur *yamlBlock
	for i, l := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case cur == nil && (trimmed == "```yaml" || trimmed == "```yml"):
			cur = &yamlBlock{line: i + 2}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// checkUsesBlock parses a YAML text and checks every mapping whose uses: names this repository (a step, or a job
// calling a reusable workflow). It returns how many it checked and what is wrong.
func checkUsesBlock(root, text string) (int, []error) {
	var doc any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return 0, []error{fmt.Errorf("not valid YAML: %w", err)}
	}
	n := 0
	var errs []error
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if uses, ok := v["uses"].(string); ok && (uses == "slipway/actions" || strings.HasPrefix(uses, "slipway/actions/") || strings.HasPrefix(uses, "slipway/actions@")) {
				n++
				errs = append(errs, checkStep(root, uses, v)...)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return n, errs
}

func checkStep(root, uses string, step map[string]any) []error {
	t, err := resolveUses(root, uses)
	if err != nil {
		return []error{err}
	}
	var errs []error
	with, _ := step["with"].(map[string]any)
	rel, _ := filepath.Rel(root, t.file)
	for k := range with {
		if _, ok := t.inputs[k]; !ok {
			errs = append(errs, fmt.Errorf("%s: with: %q is not an input of %s (it declares %v)", uses, k, rel, slices.Sorted(maps.Keys(t.inputs))))
		}
	}
	for k, req := range t.inputs {
		if _, ok := with[k]; req && !ok {
			errs = append(errs, fmt.Errorf("%s: the required input %q of %s is not set under with:", uses, k, rel))
		}
	}
	if t.secrets == nil {
		return errs
	}
	switch s := step["secrets"].(type) {
	case string:
		if s != "inherit" {
			errs = append(errs, fmt.Errorf("%s: secrets: %q is neither a mapping nor inherit", uses, s))
		}
	case map[string]any:
		for k := range s {
			if _, ok := t.secrets[k]; !ok {
				errs = append(errs, fmt.Errorf("%s: secret %q is not declared by %s (it declares %v)", uses, k, rel, slices.Sorted(maps.Keys(t.secrets))))
			}
		}
	}
	return errs
}
