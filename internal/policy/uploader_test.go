package policy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

const ghIssuer = "https://token.actions.githubusercontent.com"

// uploadersPolicy is a policy with a key and the uploader rules given.
func uploadersPolicy(t *testing.T, uploaders string) *policy.Policy {
	t.Helper()
	_, pub := policytest.NewKeypair(t)
	doc := header + "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n" + uploaders
	p, err := policy.Parse([]byte(doc), policy.Options{Name: "policy.yaml", Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	return p
}

const rules = `uploaders:
  - name: release-workflow        # the release job of octo/app, from a tag
    oidc:
      issuer: https://token.actions.githubusercontent.com
      repositoryID: "123456"
      repositoryOwnerID: "7890"
      jobWorkflowRefRegExp: octo/app/\.github/workflows/release\.yml@refs/tags/v[0-9.]+
      runnerEnvironment: github-hosted
    repositories: ["git+https://github.com/octo/app"]
  - name: shared-release          # any repository of octo running octo's shared workflow
    oidc:
      issuer: https://token.actions.githubusercontent.com
      repositoryOwnerID: "7890"
      jobWorkflowRef: octo/workflows/.github/workflows/release.yml@refs/heads/main
    repositories: ["https://github.com/octo/lib", "https://github.com/octo/tool.git"]
  - name: hpc-ci
    token: hpc-ci
    repositories: ["git+https://git.hpc.example/sim/solver"]
`

// job is the verified claims of octo/app's release job for v1.2.
func job(edit func(*policy.OIDCCaller)) policy.Caller {
	c := &policy.OIDCCaller{
		Issuer: ghIssuer, Subject: "repo:octo/app:ref:refs/tags/v1.2",
		Repository: "octo/app", RepositoryID: "123456", RepositoryOwner: "octo", RepositoryOwnerID: "7890",
		WorkflowRef:    "octo/app/.github/workflows/release.yml@refs/tags/v1.2",
		JobWorkflowRef: "octo/app/.github/workflows/release.yml@refs/tags/v1.2",
		Ref:            "refs/tags/v1.2", EventName: "push", RunnerEnvironment: "github-hosted", RunID: "1", RunAttempt: "1",
	}
	if edit != nil {
		edit(c)
	}
	return policy.Caller{OIDC: c}
}

func token(name string, scopes ...string) policy.Caller {
	return policy.Caller{Token: &policy.TokenCaller{Name: name, Scopes: scopes}}
}

func TestAllowUpload(t *testing.T) {
	t.Parallel()
	p := uploadersPolicy(t, rules)
	none := uploadersPolicy(t, "")
	tests := []struct {
		name   string
		p      *policy.Policy
		caller policy.Caller
		repo   string
		rule   string // the rule that allows; "" when refused
		want   string // in the reason
	}{
		{name: "release job", p: p, caller: job(nil), repo: "git+https://github.com/octo/app@refs/tags/v1.2", rule: "release-workflow"},
		{name: "release job, repository written another way", p: p, caller: job(nil), repo: "https://GitHub.com/octo/app.git", rule: "release-workflow"},
		{name: "release job, another repository", p: p, caller: job(nil), repo: "git+https://github.com/octo/lib",
			want: `rule "release-workflow": may publish ["https://github.com/octo/app"], not "https://github.com/octo/lib"`},
		{name: "repository recreated under the same name", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) { c.RepositoryID = "999999" }),
			want:   `repository_id "999999" (of "octo/app") is not "123456"`},
		{name: "owner name taken over", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) { c.RepositoryOwnerID = "1111" }),
			want:   `repository_owner_id "1111" (of "octo") is not "7890"`},
		{name: "a branch, not a tag", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) {
				c.JobWorkflowRef, c.WorkflowRef = "octo/app/.github/workflows/release.yml@refs/heads/main", "octo/app/.github/workflows/release.yml@refs/heads/main"
			}),
			want: `job_workflow_ref "octo/app/.github/workflows/release.yml@refs/heads/main" does not match jobWorkflowRefRegExp`},
		{name: "regexp anchored at the end", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) {
				c.JobWorkflowRef = "octo/app/.github/workflows/release.yml@refs/tags/v1.2-evil"
			}),
			want: "does not match jobWorkflowRefRegExp"},
		{name: "caller's workflow_ref does not satisfy jobWorkflowRef", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) {
				c.JobWorkflowRef = "evil/actions/.github/workflows/publish.yml@refs/heads/main"
			}),
			want: `the calling workflow_ref "octo/app/.github/workflows/release.yml@refs/tags/v1.2" does, but the rule names the workflow that defines the job`},
		{name: "self-hosted runner", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) { c.RunnerEnvironment = "self-hosted" }),
			want:   `runner_environment "self-hosted" is not "github-hosted"`},
		{name: "another issuer", p: p, repo: "git+https://github.com/octo/app",
			caller: job(func(c *policy.OIDCCaller) { c.Issuer = "https://ghes.example/_services/token" }),
			want:   `issuer "https://ghes.example/_services/token" is not "https://token.actions.githubusercontent.com"`},
		{name: "shared workflow from another repository of the owner", p: p, repo: "https://github.com/octo/tool", rule: "shared-release",
			caller: job(func(c *policy.OIDCCaller) {
				c.Repository, c.RepositoryID = "octo/tool", "555"
				c.WorkflowRef = "octo/tool/.github/workflows/ci.yml@refs/heads/main"
				c.JobWorkflowRef = "octo/workflows/.github/workflows/release.yml@refs/heads/main"
			})},
		{name: "shared workflow only as the caller", p: p, repo: "https://github.com/octo/tool",
			caller: job(func(c *policy.OIDCCaller) {
				c.Repository, c.RepositoryID = "octo/tool", "555"
				c.WorkflowRef = "octo/workflows/.github/workflows/release.yml@refs/heads/main"
				c.JobWorkflowRef = "octo/tool/.github/workflows/anything.yml@refs/heads/main"
			}),
			want: `rule "shared-release": job_workflow_ref "octo/tool/.github/workflows/anything.yml@refs/heads/main" does not match jobWorkflowRef`},
		{name: "shared workflow of another owner", p: p, repo: "https://github.com/octo/tool",
			caller: job(func(c *policy.OIDCCaller) {
				c.RepositoryOwnerID = "31337"
				c.JobWorkflowRef = "octo/workflows/.github/workflows/release.yml@refs/heads/main"
			}),
			want: `repository_owner_id "31337"`},
		{name: "service token", p: p, caller: token("hpc-ci", "upload", "read"), repo: "git+https://git.hpc.example/sim/solver", rule: "hpc-ci"},
		{name: "service token, another repository", p: p, caller: token("hpc-ci", "upload"), repo: "git+https://github.com/octo/app",
			want: `rule "hpc-ci": may publish ["https://git.hpc.example/sim/solver"]`},
		{name: "service token without a rule", p: p, caller: token("laptop", "upload"), repo: "git+https://git.hpc.example/sim/solver",
			want: `rule "hpc-ci": is for service token "hpc-ci", not "laptop"`},
		{name: "service token without the upload scope", p: p, caller: token("hpc-ci", "read"), repo: "git+https://git.hpc.example/sim/solver",
			want: `service token "hpc-ci" has the scopes ["read"], not "upload"`},
		{name: "no rules: any upload token", p: none, caller: token("anything", "upload"), repo: "not even a URL"},
		{name: "no rules: the upload scope is still needed", p: none, caller: token("anything", "dispatch"), repo: "https://github.com/octo/app",
			want: `not "upload"`},
		{name: "no rules: OIDC refused", p: none, caller: job(nil), repo: "https://github.com/octo/app",
			want: "the policy has no uploader rules, and the GitHub Actions job of \"octo/app\""},
		{name: "repository with a path trick", p: p, caller: job(nil), repo: "https://github.com/octo/app/../evil",
			want: `names the source repository "https://github.com/octo/app/../evil", which has the dot segment`},
		{name: "no provenance repository", p: p, caller: job(nil), repo: "", want: `names the source repository ""`},
		{name: "both credentials", p: p, caller: policy.Caller{Token: token("hpc-ci", "upload").Token, OIDC: job(nil).OIDC}, repo: "https://github.com/octo/app",
			want: "exactly one"},
		{name: "no credential", p: none, caller: policy.Caller{}, repo: "https://github.com/octo/app", want: "exactly one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tc.p.AllowUpload(tc.caller, tc.repo)
			wantAllowed := tc.rule != "" || tc.want == ""
			if d.Allowed != wantAllowed || d.Rule != tc.rule {
				t.Fatalf("AllowUpload() = %+v; want allowed %v by rule %q", d, wantAllowed, tc.rule)
			}
			if !strings.Contains(d.Reason, tc.want) {
				t.Errorf("reason = %s\nwant it to contain %s", d.Reason, tc.want)
			}
			if d.Allowed && tc.rule != "" && !strings.Contains(d.Reason, `rule "`+tc.rule+`"`) {
				t.Errorf("reason %q does not name the rule", d.Reason)
			}
		})
	}
}

func TestUploaderParseErrors(t *testing.T) {
	t.Parallel()
	_, pub := policytest.NewKeypair(t)
	key := header + "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n"
	oidc := func(fields string) string {
		return key + "uploaders:\n  - name: u\n    oidc:\n      issuer: " + ghIssuer + "\n" + fields + "    repositories: [https://github.com/o/r]\n"
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", oidc("      repositoryId: \"1\"\n"), `unknown field "repositoryId"`},
		{"unknown rule field", key + "uploaders:\n  - name: u\n    token: t\n    repos: [x]\n", `unknown field "repos"`},
		{"no id", oidc("      jobWorkflowRef: o/r/.github/workflows/r.yml@refs/heads/main\n"), `field "uploaders[0].oidc": names neither "repositoryID" nor "repositoryOwnerID"`},
		{"hex id", oidc("      repositoryID: 0x10\n"), `field "uploaders[0].oidc.repositoryID": "0x10" is not a numeric id`},
		{"name as id", oidc("      repositoryID: o/r\n"), `"o/r" is not a numeric id`},
		{"leading zero", oidc("      repositoryOwnerID: \"0123\"\n"), `"0123" is not a numeric id`},
		{"null id", oidc("      repositoryID:\n"), `names neither "repositoryID" nor "repositoryOwnerID"`},
		{"both refs", oidc("      repositoryID: \"1\"\n      jobWorkflowRef: a\n      jobWorkflowRefRegExp: b\n"), `has both "jobWorkflowRef" and "jobWorkflowRefRegExp"`},
		{"bad regexp", oidc("      repositoryID: \"1\"\n      workflowRefRegExp: \"(\"\n"), `field "uploaders[0].oidc.workflowRefRegExp": "(" is not a valid regular expression`},
		{"runner", oidc("      repositoryID: \"1\"\n      runnerEnvironment: hosted\n"), `is "hosted"; want "github-hosted" or "self-hosted"`},
		{"http issuer", strings.Replace(oidc("      repositoryID: \"1\"\n"), "https://token", "http://token", 1), `is not an https URL`},
		{"no issuer", strings.Replace(oidc("      repositoryID: \"1\"\n"), "issuer: "+ghIssuer, "issuer: \"\"", 1), `field "uploaders[0].oidc.issuer": is empty`},
		{"token and oidc", key + "uploaders:\n  - name: u\n    token: t\n    oidc: {issuer: " + ghIssuer + ", repositoryID: \"1\"}\n    repositories: [https://github.com/o/r]\n", `has both "token" and "oidc"`},
		{"neither", key + "uploaders:\n  - name: u\n    repositories: [https://github.com/o/r]\n", `has neither "token"`},
		{"no repositories", key + "uploaders:\n  - name: u\n    token: t\n", `field "uploaders[0].repositories": is empty`},
		{"bad repository", key + "uploaders:\n  - name: u\n    token: t\n    repositories: [github.com/o/r]\n", `field "uploaders[0].repositories[0]": "github.com/o/r" is not an https`},
		{"unnamed", key + "uploaders:\n  - token: t\n    repositories: [https://github.com/o/r]\n", `field "uploaders[0].name": is empty`},
		{"duplicate names", key + "uploaders:\n  - {name: u, token: t, repositories: [https://github.com/o/r]}\n  - {name: u, token: s, repositories: [https://github.com/o/r]}\n", `"u" is already the name of uploaders[0]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Parse([]byte(tc.doc), policy.Options{Name: "policy.yaml", Dir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() = %v\nwant an error containing %s", err, tc.want)
			}
		})
	}
}

// TestDocsUploadersExample: the uploaders example in docs/policy.md parses
// and decides as the page says.
func TestDocsUploadersExample(t *testing.T) {
	t.Parallel()
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(docs), "```yaml\nuploaders:\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/policy.md has no ```yaml block starting with \"uploaders:\"")
	}
	p := uploadersPolicy(t, "uploaders:\n"+block)
	if len(p.Uploaders) != 3 {
		t.Fatalf("%d uploader rules, want 3", len(p.Uploaders))
	}
	if got := p.OIDCIssuers(); len(got) != 1 || got[0] != ghIssuer {
		t.Errorf("OIDCIssuers() = %q, want [%q]", got, ghIssuer)
	}
	d := p.AllowUpload(job(func(c *policy.OIDCCaller) {
		c.JobWorkflowRef = "octo/app/.github/workflows/release.yml@refs/tags/v1.2"
	}), "https://github.com/octo/app")
	if !d.Allowed || d.Rule != "release-workflow" {
		t.Errorf("AllowUpload(release job) = %+v", d)
	}
}
