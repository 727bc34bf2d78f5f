package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files (action.yml files, README sections)")

const repoRoot = "../.."

// TestGenerated proves that every action.yml, the root action.yml and the
// README's stage tables are what the stages' input tables say. Run with
// -update after changing an input.
func TestGenerated(t *testing.T) {
	cmds := Commands()
	pin, err := ReadPin(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	files := GeneratedActions(cmds, pin.Image)
	files[PinFile] = pinText(pin)
	for rel, want := range files {
		path := filepath.Join(repoRoot, rel)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./internal/cli -run TestGenerated -update)", rel, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is out of date with its stage's input table; run go test ./internal/cli -run TestGenerated -update", rel)
		}
	}

	readmePath := filepath.Join(repoRoot, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	var inputs strings.Builder
	for i, c := range cmds {
		if i > 0 {
			inputs.WriteString("\n")
		}
		inputs.WriteString(ReadmeInputs(c))
	}
	out := readme
	for _, region := range []struct{ name, content string }{
		{"stages", ReadmeStages(cmds)},
		{"inputs", inputs.String()},
	} {
		out, err = replaceRegion(out, region.name, region.content)
		if err != nil {
			t.Fatal(err)
		}
	}
	if *update {
		if err := os.WriteFile(readmePath, out, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(out, readme) {
		t.Errorf("README.md's generated sections are out of date; run go test ./internal/cli -run TestGenerated -update")
	}
}

func replaceRegion(doc []byte, name, content string) ([]byte, error) {
	begin := fmt.Sprintf("<!-- generated:%s -->\n", name)
	end := fmt.Sprintf("<!-- /generated:%s -->", name)
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		return nil, fmt.Errorf("README.md lacks the region %q ... %q", strings.TrimSpace(begin), end)
	}
	var b bytes.Buffer
	b.Write(doc[:i+len(begin)])
	b.WriteString(content)
	b.Write(doc[j:])
	return b.Bytes(), nil
}

// TestHelpMatchesInputs proves that --help lists every input of every stage
// with its description, secrets under their environment variable.
func TestHelpMatchesInputs(t *testing.T) {
	t.Parallel()
	for _, c := range Commands() {
		var stdout bytes.Buffer
		code := Main(context.Background(), Env{
			Args: []string{c.Name(), "--help"}, Stdout: &stdout, Stderr: &stdout,
			Getenv: func(string) string { return "" }, Getwd: os.Getwd,
		})
		if code != 0 {
			t.Fatalf("%s --help exited %d", c.Name(), code)
		}
		help := strings.Join(strings.Fields(stdout.String()), " ")
		for _, in := range c.Inputs() {
			desc := strings.Join(strings.Fields(in.Description), " ")
			if in.Secret {
				if !strings.Contains(help, in.Env) || !strings.Contains(help, desc) {
					t.Errorf("%s --help lacks secret %s (%s)", c.Name(), in.Env, in.Name)
				}
				continue
			}
			if !strings.Contains(help, "--"+in.Name+" ") || !strings.Contains(help, desc) {
				t.Errorf("%s --help lacks --%s with its description", c.Name(), in.Name)
			}
		}
		for _, o := range c.Outputs() {
			if !strings.Contains(help, o.Name) {
				t.Errorf("%s --help lacks output %s", c.Name(), o.Name)
			}
		}
	}
}

// TestGitHubAPIURLDefault: an action's github-api-url must default to the runner's API (github.api_url, a GitHub
// Enterprise Server's or act's), never to GitHub.com's: the runner sets INPUT_GITHUB-API-URL to the default, which
// wins over GITHUB_API_URL, so a fixed https://api.github.com sent a GHES workflow's report and publish to GitHub.com
// (seen under act in e2e TestGitHubFaces).
func TestGitHubAPIURLDefault(t *testing.T) {
	t.Parallel()
	checkActionDefault(t, "github-api-url", "${{ github.api_url }}",
		"action.yml", "actions/report/action.yml", "actions/publish/action.yml", "actions/slurm-dispatch/action.yml")
}

// checkActionDefault fails unless input defaults to want in each action.yml of rels (relative to the repository).
func checkActionDefault(t *testing.T, input, want string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		var a struct {
			Inputs map[string]struct {
				Default string `yaml:"default"`
			} `yaml:"inputs"`
		}
		if err := readYAML(filepath.Join(repoRoot, rel), &a); err != nil {
			t.Fatal(err)
		}
		if got := a.Inputs[input].Default; got != want {
			t.Errorf("%s: %s defaults to %q, want %s", rel, input, got, want)
		}
	}
}

// TestGitHubTokenDefault: Docker actions get only what with: passes, never the job's GITHUB_TOKEN, so every action
// that writes to a registry (and the root action, which can push) passes the job's token by default; otherwise
// a push to ghcr.io would be anonymous and fail with 401.
func TestGitHubTokenDefault(t *testing.T) {
	t.Parallel()
	checkActionDefault(t, "github-token", "${{ github.token }}",
		"action.yml", "actions/push/action.yml", "actions/sign/action.yml", "actions/attest/action.yml")
	var push pushCommand
	for _, in := range push.Inputs() {
		if in.Name == "github-token" && in.Default != "" {
			t.Errorf("the CLI's github-token default is %q; it must come from GITHUB_TOKEN only", in.Default)
		}
	}
}
