package testrun

import (
	"encoding/json"
	"strings"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testresult"
)

// SkippedTestsField is the predicate's extension field listing the skipped
// tests: the test-result v0.1 predicate has no field for them, and the
// in-toto parsing rules let producers add fields with names unlikely to
// collide, which consumers ignore.
const SkippedTestsField = "slipwaySkippedTests"

// resourceDescriptor is an in-toto v1 ResourceDescriptor, as the
// predicate's configuration lists them.
type resourceDescriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Content     []byte            `json:"content,omitempty"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// predicate is the test-result v0.1 predicate
// (https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md).
type predicate struct {
	Result        string               `json:"result"`
	Configuration []resourceDescriptor `json:"configuration"`
	URL           string               `json:"url,omitempty"`
	PassedTests   []string             `json:"passedTests"`
	WarnedTests   []string             `json:"warnedTests"`
	FailedTests   []string             `json:"failedTests"`
	SkippedTests  []string             `json:"slipwaySkippedTests,omitempty"`
}

// predicate makes the predicate: the result, the configuration (the commit
// from the manifest's build record, the command, each result file by
// digest), the run's URL in GitHub Actions, and the tests by status.
func (o *Options) predicate(m *artifact.Manifest, res *Result, cases []testresult.Case) ([]byte, error) {
	p := predicate{Result: res.Result, URL: o.runURL(),
		PassedTests: []string{}, WarnedTests: []string{}, FailedTests: []string{}}
	if b := m.Build; b != nil && b.Commit != "" {
		rd := resourceDescriptor{Name: "commit", Digest: map[string]string{"gitCommit": b.Commit}}
		if b.Repository != "" {
			rd.URI = b.Repository
			if b.Ref != "" {
				rd.URI += "@" + b.Ref
			}
		}
		p.Configuration = append(p.Configuration, rd)
	}
	if o.Command != "" {
		rd := resourceDescriptor{Name: "command", Content: []byte(o.Command)}
		if e := res.Exit; e != nil {
			rd.Annotations = map[string]any{"exitCode": e.Code}
			if e.Signal != "" {
				rd.Annotations["signal"] = e.Signal
			}
		}
		p.Configuration = append(p.Configuration, rd)
	}
	for _, f := range res.Files {
		p.Configuration = append(p.Configuration, resourceDescriptor{
			Name:        f.Path,
			Digest:      map[string]string{"sha256": strings.TrimPrefix(f.Digest, "sha256:")},
			Annotations: map[string]any{"format": string(f.Format), "cases": f.Cases},
		})
	}
	for _, c := range cases {
		name := c.FullName()
		switch c.Status {
		case testresult.Passed:
			p.PassedTests = append(p.PassedTests, name)
		case testresult.Warned:
			p.WarnedTests = append(p.WarnedTests, name)
		case testresult.Failed:
			p.FailedTests = append(p.FailedTests, name)
		case testresult.Skipped:
			p.SkippedTests = append(p.SkippedTests, name)
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, exitcode.Infraf("encoding the test-result predicate: %w", err)
	}
	return b, nil
}

// runURL is the GitHub Actions run's URL, or "" outside Actions.
func (o *Options) runURL() string {
	get := o.Getenv
	if get == nil || get("GITHUB_ACTIONS") != "true" {
		return ""
	}
	server, repo, id := get("GITHUB_SERVER_URL"), get("GITHUB_REPOSITORY"), get("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	u := strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + id
	if a := get("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
		u += "/attempts/" + a
	}
	return u
}
