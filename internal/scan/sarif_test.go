package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchema is the OASIS SARIF 2.1.0 JSON schema as grype's module ships
// it (grype/presenter/sarif/testdata), read from the module cache.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", grypeModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", grypeModule, err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "grype", "presenter", "sarif", "testdata", "sarif-schema-2.1.0.json")
	c := jsonschema.NewCompiler()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compiling %s: %v", path, err)
	}
	return s
}

// TestSARIFSchema: the SARIF log of a scan with findings (and of one
// without) is valid SARIF 2.1.0, one run, one rule per vulnerability with
// GitHub's security-severity, one result per finding and SBOM located in
// the SBOM file.
func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	schema := sarifSchema(t)
	ws := nativeWorkspace(t)
	db := openTestDB(t, scantestOptions(), nativeVulns()...)
	res, err := Run(context.Background(), Options{Dir: ws.dir, Manifest: ws.manifest, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	empty := &Result{DB: res.DB, Started: res.Started, Finished: res.Finished}
	for name, r := range map[string]*Result{"findings": res, "none": empty} {
		var b bytes.Buffer
		if err := r.WriteSARIF(&b); err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: not valid SARIF 2.1.0: %v\n%s", name, err, b.String())
		}
		var log struct {
			Version string
			Runs    []struct {
				Tool struct {
					Driver struct {
						Name, Version string
						Rules         []struct {
							ID         string
							Properties map[string]any
						}
					}
				}
				Results []struct {
					RuleID, Level string
					Locations     []struct {
						PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
					}
				}
			}
		}
		if err := json.Unmarshal(b.Bytes(), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "grype" {
			t.Fatalf("%s: %v %s", name, err, b.String())
		}
		run := log.Runs[0]
		wantResults := 0
		for _, f := range r.Findings {
			wantResults += len(f.SBOMs)
		}
		if len(run.Results) != wantResults || len(run.Tool.Driver.Rules) != len(r.Findings) {
			t.Errorf("%s: %d results, %d rules; want %d and %d", name, len(run.Results), len(run.Tool.Driver.Rules), wantResults, len(r.Findings))
		}
		for _, rule := range run.Tool.Driver.Rules {
			if rule.Properties["security-severity"] == nil {
				t.Errorf("rule %s has no security-severity", rule.ID)
			}
		}
		for _, res := range run.Results {
			if len(res.Locations) != 1 || !strings.HasPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "app.") || res.Level == "" {
				t.Errorf("result %+v", res)
			}
		}
	}
}
