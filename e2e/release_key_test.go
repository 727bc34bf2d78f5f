package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// shippedReleaseWorkflow is the reusable release workflow, relative to the e2e directory.
const shippedReleaseWorkflow = "../.github/workflows/release.yml"

// checkKeyNeverWritten checks that the cosign key never became a file: the shipped workflow hands the cosign-key
// secret to nothing but the cosign-key input of the slipway sign, attest, test and scan steps (and the inputs check, which
// only tests that it is set), so no step can write it; and no file the run left (the run's directory, which every
// action container shares, with $SLIPWAY_OUT and act's action cache) holds a line of it.
func checkKeyNeverWritten(t *testing.T, r *Result, key cosignKey) {
	t.Helper()
	uses, err := cosignKeyUses(shippedReleaseWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"release-key", "release-keyless"} {
		if want := []string{"attest/cosign-key", "attest/cosign-key", "attest/cosign-key", "scan/cosign-key", "sign/cosign-key", "sign/cosign-key", "test/cosign-key"}; strings.Join(uses[job], " ") != strings.Join(want, " ") {
			t.Errorf("job %s hands the cosign-key secret to %v, want only the cosign-key input of sign, attest, test and scan %v", job, uses[job], want)
		}
	}
	lines := key.secretLines()
	err = filepath.WalkDir(r.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || p == filepath.Join(r.Dir, "act.jsonl") { // the log: checkNoSecretLogged
			return err
		}
		data, err := os.ReadFile(p) // the run's small files; artifacts are a few KiB
		if err != nil {
			return err
		}
		for _, l := range lines {
			if bytes.Contains(data, []byte(l)) {
				t.Errorf("%s holds a line of the private key", p)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cosignKeyUses lists, per job of the workflow, where a step uses secrets.cosign-key as "stage/input" (sorted),
// leaving out the inputs check's `HAS_KEY: ${{ secrets.cosign-key != ” }}`. Any other use (a run: script, an
// env: of another step, another action) is an error.
func cosignKeyUses(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []map[string]any `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string][]string{}
	for job, j := range wf.Jobs {
		for i, step := range j.Steps {
			uses, _ := step["uses"].(string)
			stage := strings.TrimPrefix(strings.Split(uses, "@")[0], "slipway/actions/actions/")
			for _, at := range secretUses(step, "") {
				switch {
				case at == "env.HAS_KEY" && step["env"].(map[string]any)["HAS_KEY"] == "${{ secrets.cosign-key != '' }}":
				case at == "with.cosign-key" && (stage == "sign" || stage == "attest" || stage == "test" || stage == "scan"):
					out[job] = append(out[job], stage+"/cosign-key")
				default:
					return nil, fmt.Errorf("%s: job %s step %d (%v) uses secrets.cosign-key at %s", path, job, i+1, step["name"], at)
				}
			}
		}
		sort.Strings(out[job])
	}
	return out, nil
}

// secretUses returns the dotted paths in v whose string value mentions secrets.cosign-key.
func secretUses(v any, at string) []string {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "secrets.cosign-key") {
			return []string{at}
		}
	case map[string]any:
		var out []string
		for k, x := range v {
			out = append(out, secretUses(x, strings.TrimPrefix(at+"."+k, "."))...)
		}
		return out
	case []any:
		var out []string
		for i, x := range v {
			out = append(out, secretUses(x, fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	}
	return nil
}

// TestReleaseWorkflowHandsTheKeyOnlyToSlipway is the static half of checkKeyNeverWritten, without act: a step
// added later that writes the key to a file, or passes it to another action, fails here.
func TestReleaseWorkflowHandsTheKeyOnlyToSlipway(t *testing.T) {
	t.Parallel()
	uses, err := cosignKeyUses(shippedReleaseWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	if len(uses["release-key"]) != 7 {
		t.Errorf("release-key hands the key to %v, want the two sign, three attest, the test and the scan steps", uses["release-key"])
	}
	bad := []byte("jobs:\n  j:\n    steps:\n      - name: Write the key\n        run: echo \"${{ secrets.cosign-key }}\" > k\n")
	p := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cosignKeyUses(p); err == nil || !strings.Contains(err.Error(), "at run") {
		t.Errorf("a run: step writing the key was not caught: %v", err)
	}
}
