package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// UploadScope is the service token scope that lets a token send releases
// to the control plane.
const UploadScope = "upload"

// Runner environments of a GitHub Actions ID token ("runner_environment").
const (
	GitHubHosted = "github-hosted"
	SelfHosted   = "self-hosted"
)

// Uploader is a rule of the trust policy saying who may publish releases of
// which source repositories to the control plane. Exactly one of Token and
// OIDC is set.
type Uploader struct {
	Name string
	// Token is the name of a service token.
	Token string
	// OIDC matches a verified GitHub Actions OIDC ID token.
	OIDC *OIDCRule
	// Repositories are the source repositories (normalized, see
	// ParseRepository) whose releases the uploader may publish.
	Repositories []string
}

// OIDCRule matches the claims of a verified GitHub Actions ID token. It
// matches repositories and owners by their immutable numeric ids, never by
// name: a repository deleted and created again under the same name, or an
// account renamed and its name taken, gets new ids.
type OIDCRule struct {
	// Issuer is the token's exact issuer ("iss").
	Issuer string
	// RepositoryID and RepositoryOwnerID must equal the claims
	// repository_id and repository_owner_id; "" allows any, and at least
	// one is set.
	RepositoryID      string
	RepositoryOwnerID string
	// JobWorkflowRef matches job_workflow_ref: the workflow file that
	// defines the job, which is a reusable workflow's own file when the job
	// calls one.
	JobWorkflowRef Pattern
	// WorkflowRef matches workflow_ref: the workflow that started the run
	// (the caller of a reusable workflow).
	WorkflowRef Pattern
	// Ref matches ref, the git ref the run is for ("refs/tags/v1").
	Ref Pattern
	// RunnerEnvironment, when set, must equal runner_environment
	// (GitHubHosted or SelfHosted).
	RunnerEnvironment string
}

// Pattern is an exact value or a regular expression that must match the
// whole value; the zero Pattern allows any value.
type Pattern struct {
	Exact  string
	RegExp *regexp.Regexp
}

// IsZero reports whether p allows any value.
func (p Pattern) IsZero() bool { return p.Exact == "" && p.RegExp == nil }

// Match reports whether s is allowed by p.
func (p Pattern) Match(s string) bool {
	switch {
	case p.RegExp != nil:
		return p.RegExp.MatchString(s)
	case p.Exact != "":
		return s == p.Exact
	}
	return true
}

// describe writes p as the policy wrote it, under the field name name.
func (p Pattern) describe(name string) string {
	if p.RegExp != nil {
		return fmt.Sprintf("%sRegExp %q", name, unanchor(p.RegExp.String()))
	}
	return fmt.Sprintf("%s %q", name, p.Exact)
}

// Caller is who sends a release, as the control plane authenticated it:
// exactly one of Token and OIDC is set.
type Caller struct {
	Token *TokenCaller
	OIDC  *OIDCCaller
}

// TokenCaller is a verified service token: its name and scopes.
type TokenCaller struct {
	Name   string
	Scopes []string
}

// OIDCCaller is a GitHub Actions job as its verified OIDC ID token
// describes it: the claims uploader rules match, and the ones a log or a
// message shows. Values are the claims as issued.
type OIDCCaller struct {
	Issuer            string // iss
	Subject           string // sub
	Repository        string // repository: "owner/name", for messages only
	RepositoryID      string // repository_id
	RepositoryOwner   string // repository_owner, for messages only
	RepositoryOwnerID string // repository_owner_id
	WorkflowRef       string // workflow_ref: the workflow that started the run
	JobWorkflowRef    string // job_workflow_ref: the workflow that defines the job
	Ref               string // ref
	SHA               string // sha
	EventName         string // event_name
	RunnerEnvironment string // runner_environment
	RunID             string // run_id
	RunAttempt        string // run_attempt
}

// String names the caller for messages and logs; it holds no secret.
func (c Caller) String() string {
	switch {
	case c.Token != nil:
		return fmt.Sprintf("service token %q", c.Token.Name)
	case c.OIDC != nil:
		return fmt.Sprintf("the GitHub Actions job of %q (repository_id %q, repository_owner_id %q) running %q", c.OIDC.Repository, c.OIDC.RepositoryID, c.OIDC.RepositoryOwnerID, c.OIDC.JobWorkflowRef)
	}
	return "an unauthenticated caller"
}

// UploadDecision is whether a caller may publish a release, and why.
type UploadDecision struct {
	Allowed bool
	// Rule is the name of the uploader rule that allowed the upload; ""
	// when refused, or allowed because the policy has no uploader rules.
	Rule string
	// Reason says why, naming the rule, or every rule that did not match
	// and what to change; it holds no secret.
	Reason string
}

// AllowUpload decides whether caller may publish a release whose
// provenance names sourceRepository, under the policy's uploader rules:
//   - a service token needs the upload scope, always;
//   - a policy without uploader rules lets any such token publish any
//     repository, and refuses every OIDC identity;
//   - otherwise the first rule for the caller (by token name, or by OIDC
//     claims) that lists the repository (compared normalized, see
//     ParseRepository) allows it, and no rule refuses it.
//
// A provenance naming several source repositories needs every one allowed:
// call AllowUpload for each.
func (p *Policy) AllowUpload(caller Caller, sourceRepository string) UploadDecision {
	if (caller.Token == nil) == (caller.OIDC == nil) {
		return UploadDecision{Reason: "the caller is not authenticated by exactly one of a service token and an OIDC ID token; send one of them"}
	}
	if caller.Token != nil && !slices.Contains(caller.Token.Scopes, UploadScope) {
		return UploadDecision{Reason: fmt.Sprintf("%s has the scopes %q, not %q; create a token with \"slipway token create --scope %s\"", caller, caller.Token.Scopes, UploadScope, UploadScope)}
	}
	if len(p.Uploaders) == 0 {
		if caller.Token != nil {
			return UploadDecision{Allowed: true, Reason: fmt.Sprintf("the policy has no uploader rules, so any token with the %q scope may publish", UploadScope)}
		}
		return UploadDecision{Reason: fmt.Sprintf("the policy has no uploader rules, and %s needs one; add an \"uploaders\" entry with \"oidc\" for it (docs/policy.md)", caller)}
	}
	repo, err := ParseRepository(sourceRepository)
	if err != nil {
		return UploadDecision{Reason: fmt.Sprintf("the release's provenance names the source repository %q, which %v", sourceRepository, err)}
	}
	misses := make([]string, 0, len(p.Uploaders))
	for _, u := range p.Uploaders {
		err := u.match(caller, repo)
		if err == nil {
			return UploadDecision{Allowed: true, Rule: u.Name, Reason: fmt.Sprintf("uploader rule %q allows %s to publish %q", u.Name, caller, repo)}
		}
		misses = append(misses, fmt.Sprintf("rule %q: %v", u.Name, err))
	}
	return UploadDecision{Reason: fmt.Sprintf("no uploader rule allows %s to publish %q (%s); add the repository to the caller's rule or fix the rule (docs/policy.md)", caller, repo, strings.Join(misses, "; "))}
}

// OIDCIssuers returns the issuers the uploader rules name, each once, in
// order: those whose tokens the control plane must verify.
func (p *Policy) OIDCIssuers() []string {
	var out []string
	for _, u := range p.Uploaders {
		if u.OIDC != nil && !slices.Contains(out, u.OIDC.Issuer) {
			out = append(out, u.OIDC.Issuer)
		}
	}
	return out
}

// match says why u does not allow caller to publish repo, or nil.
func (u Uploader) match(caller Caller, repo string) error {
	switch {
	case u.Token != "" && caller.Token == nil:
		return fmt.Errorf("is for service token %q, not an OIDC identity", u.Token)
	case u.Token != "" && caller.Token.Name != u.Token:
		return fmt.Errorf("is for service token %q, not %q", u.Token, caller.Token.Name)
	case u.OIDC != nil && caller.OIDC == nil:
		return fmt.Errorf("is for an OIDC identity, not a service token")
	case u.OIDC != nil:
		if err := u.OIDC.Match(*caller.OIDC); err != nil {
			return err
		}
	}
	if !slices.Contains(u.Repositories, repo) {
		return fmt.Errorf("may publish %q, not %q", u.Repositories, repo)
	}
	return nil
}

// Match says which claim of c the rule does not allow, or nil.
func (r *OIDCRule) Match(c OIDCCaller) error {
	switch {
	case c.Issuer != r.Issuer:
		return fmt.Errorf("issuer %q is not %q", c.Issuer, r.Issuer)
	case r.RepositoryID != "" && c.RepositoryID != r.RepositoryID:
		return fmt.Errorf("repository_id %q (of %q) is not %q: the rule names another repository, or this one was deleted and created again under its name", c.RepositoryID, c.Repository, r.RepositoryID)
	case r.RepositoryOwnerID != "" && c.RepositoryOwnerID != r.RepositoryOwnerID:
		return fmt.Errorf("repository_owner_id %q (of %q) is not %q: the rule names another owner, or this name now belongs to another account", c.RepositoryOwnerID, c.RepositoryOwner, r.RepositoryOwnerID)
	case !r.JobWorkflowRef.Match(c.JobWorkflowRef):
		msg := fmt.Sprintf("job_workflow_ref %q does not match %s", c.JobWorkflowRef, r.JobWorkflowRef.describe("jobWorkflowRef"))
		if r.JobWorkflowRef.Match(c.WorkflowRef) {
			msg += fmt.Sprintf(" (the calling workflow_ref %q does, but the rule names the workflow that defines the job; write \"workflowRef\" to pin the caller)", c.WorkflowRef)
		}
		return fmt.Errorf("%s", msg)
	case !r.WorkflowRef.Match(c.WorkflowRef):
		return fmt.Errorf("workflow_ref %q does not match %s", c.WorkflowRef, r.WorkflowRef.describe("workflowRef"))
	case !r.Ref.Match(c.Ref):
		return fmt.Errorf("ref %q does not match %s", c.Ref, r.Ref.describe("ref"))
	case r.RunnerEnvironment != "" && c.RunnerEnvironment != r.RunnerEnvironment:
		return fmt.Errorf("runner_environment %q is not %q", c.RunnerEnvironment, r.RunnerEnvironment)
	}
	return nil
}
