package testrun

import (
	"encoding/json"
	"slices"
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

// The test-result v0.1 predicate
// (https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md)
// is written by hand, in the bytes json.Marshal writes for
// {result, configuration, url (omitted when empty), passedTests,
// warnedTests, failedTests, slipwaySkippedTests (omitted when empty)}
// (TestPredicateEncoding holds it to that): its lists name every test, ten
// thousand and more, and going through []string and reflection held them
// three times over.

// predicate makes the predicate: the result, the configuration (the commit
// from the manifest's build record, the command, each result file by
// digest), the run's URL in GitHub Actions, and the tests by status. It
// returns its size (exact unless names need escaping) and a function that
// appends it, compact, to a buffer: attest.PredicateOptions.AppendPredicate,
// which writes it straight into the statement.
func (o *Options) predicate(m *artifact.Manifest, res *Result, cases []testresult.Case) (int, func([]byte) []byte, error) {
	var config []resourceDescriptor
	if b := m.Build; b != nil && b.Commit != "" {
		rd := resourceDescriptor{Name: "commit", Digest: map[string]string{"gitCommit": b.Commit}}
		if b.Repository != "" {
			rd.URI = b.Repository
			if b.Ref != "" {
				rd.URI += "@" + b.Ref
			}
		}
		config = append(config, rd)
	}
	if o.Command != "" {
		rd := resourceDescriptor{Name: "command", Content: []byte(o.Command)}
		if e := res.Exit; e != nil {
			rd.Annotations = map[string]any{"exitCode": e.Code}
			if e.Signal != "" {
				rd.Annotations["signal"] = e.Signal
			}
		}
		config = append(config, rd)
	}
	for _, f := range res.Files {
		config = append(config, resourceDescriptor{
			Name:        f.Path,
			Digest:      map[string]string{"sha256": strings.TrimPrefix(f.Digest, "sha256:")},
			Annotations: map[string]any{"format": string(f.Format), "cases": f.Cases},
		})
	}
	cj, err := json.Marshal(config)
	if err != nil {
		return 0, nil, exitcode.Infraf("encoding the test-result predicate: %w", err)
	}
	url := o.runURL()
	// Room for all of it: every name quoted, with a comma, and the suite's
	// slash (more only for names that need escaping).
	size := 160 + len(res.Result) + len(cj) + len(url)
	for i := range cases {
		size += len(cases[i].Suite) + len(cases[i].Name) + 4
	}
	return size, func(b []byte) []byte { return appendPredicate(b, res.Result, cj, url, cases) }, nil
}

// appendPredicate appends the predicate (see predicate) to b.
func appendPredicate(b []byte, result string, config []byte, url string, cases []testresult.Case) []byte {
	b = append(b, `{"result":`...)
	b = appendJSONString(b, result)
	b = append(b, `,"configuration":`...)
	b = append(b, config...)
	if url != "" {
		b = append(b, `,"url":`...)
		b = appendJSONString(b, url)
	}
	skipped := slices.ContainsFunc(cases, func(c testresult.Case) bool { return c.Status == testresult.Skipped })
	for _, l := range []struct {
		field  string
		status testresult.Status
	}{
		{`,"passedTests":[`, testresult.Passed},
		{`],"warnedTests":[`, testresult.Warned},
		{`],"failedTests":[`, testresult.Failed},
		{`],"` + SkippedTestsField + `":[`, testresult.Skipped},
	} {
		if l.status == testresult.Skipped && !skipped {
			break
		}
		b = append(b, l.field...)
		first := true
		for i := range cases {
			if cases[i].Status != l.status {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendTestName(b, &cases[i])
		}
	}
	return append(b, "]}"...)
}

// appendTestName appends c.FullName() as a JSON string without making it.
func appendTestName(b []byte, c *testresult.Case) []byte {
	if c.Suite == "" || c.Name == "" || !plainJSON(c.Suite) || !plainJSON(c.Name) {
		return appendJSONString(b, c.FullName())
	}
	b = append(b, '"')
	b = append(b, c.Suite...)
	b = append(b, '/')
	b = append(b, c.Name...)
	return append(b, '"')
}

// appendJSONString appends s as json.Marshal writes a string.
func appendJSONString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	js, _ := json.Marshal(s) // a string always encodes
	return append(b, js...)
}

// plainJSON tells whether json.Marshal writes s as it is between quotes:
// printable ASCII without a quote, a backslash or what it escapes for HTML.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
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
