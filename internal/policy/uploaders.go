package policy

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

func (c *compiler) uploaders(p *Policy, docs []uploaderDoc) {
	names := map[string]string{}
	for i, d := range docs {
		field := fmt.Sprintf("uploaders[%d]", i)
		u, ok := c.uploader(field, d)
		if strings.TrimSpace(d.Name) == "" {
			c.errorf(field+".name", "is empty; give every uploader rule a name, used in decisions and the log (\"name: release-workflow\")")
			ok = false
		} else if prev, dup := names[d.Name]; dup {
			c.errorf(field+".name", "%q is already the name of %s; uploader names must be unique", d.Name, prev)
			ok = false
		}
		names[d.Name] = field
		if ok {
			p.Uploaders = append(p.Uploaders, u)
		}
	}
}

func (c *compiler) uploader(field string, d uploaderDoc) (Uploader, bool) {
	u := Uploader{Name: d.Name, Token: d.Token}
	ok := true
	switch {
	case d.Token != "" && d.OIDC != nil:
		c.errorf(field, "has both \"token\" and \"oidc\"; a rule is for a service token or for OIDC identities: write two rules")
		ok = false
	case d.Token == "" && d.OIDC == nil:
		c.errorf(field, "has neither \"token\" (a service token's name) nor \"oidc\" (a GitHub Actions identity); give one")
		ok = false
	case d.Token != "" && strings.TrimSpace(d.Token) != d.Token:
		c.errorf(field+".token", "%q has surrounding spaces; write the token's name as \"slipway token create --name\" gave it", d.Token)
		ok = false
	case d.OIDC != nil:
		u.OIDC, ok = c.oidcRule(field+".oidc", *d.OIDC)
	}
	if len(d.Repositories) == 0 {
		c.errorf(field+".repositories", "is empty; list the source repositories this uploader may publish, like \"git+https://github.com/owner/repo\"")
		ok = false
	}
	for i, s := range d.Repositories {
		if repo, good := c.sourceRepository(fmt.Sprintf("%s.repositories[%d]", field, i), s); good {
			u.Repositories = append(u.Repositories, repo)
		} else {
			ok = false
		}
	}
	return u, ok
}

func (c *compiler) oidcRule(field string, d oidcDoc) (*OIDCRule, bool) {
	r := &OIDCRule{Issuer: d.Issuer, RepositoryID: string(d.RepositoryID), RepositoryOwnerID: string(d.RepositoryOwnerID), RunnerEnvironment: d.RunnerEnvironment}
	ok := true
	if err := CheckIssuer(d.Issuer); err != nil {
		c.errorf(field+".issuer", "%v", err)
		ok = false
	}
	for _, id := range []struct{ name, v string }{{"repositoryID", r.RepositoryID}, {"repositoryOwnerID", r.RepositoryOwnerID}} {
		if id.v != "" && (!allChars(id.v, func(b byte) bool { return b >= '0' && b <= '9' }) || id.v[0] == '0') {
			c.errorf(field+"."+id.name, "%q is not a numeric id; write the id GitHub gives (\"gh api repos/OWNER/REPO --jq .id\", \".owner.id\"), quoted", id.v)
			ok = false
		}
	}
	if d.RepositoryID == "" && d.RepositoryOwnerID == "" {
		c.errorf(field, "names neither \"repositoryID\" nor \"repositoryOwnerID\"; pin the repository or its owner by id (names can be taken over, ids cannot)")
		ok = false
	}
	var good bool
	r.JobWorkflowRef, good = c.pattern(field, "jobWorkflowRef", d.JobWorkflowRef, d.JobWorkflowRefRegExp)
	ok = ok && good
	r.WorkflowRef, good = c.pattern(field, "workflowRef", d.WorkflowRef, d.WorkflowRefRegExp)
	ok = ok && good
	r.Ref, good = c.pattern(field, "ref", d.Ref, d.RefRegExp)
	ok = ok && good
	switch d.RunnerEnvironment {
	case "", GitHubHosted, SelfHosted:
	default:
		c.errorf(field+".runnerEnvironment", "is %q; want %q or %q, or leave it out to allow both", d.RunnerEnvironment, GitHubHosted, SelfHosted)
		ok = false
	}
	return r, ok
}

// pattern compiles an optional exact value or regular expression (field
// name and name+"RegExp"), anchored.
func (c *compiler) pattern(field, name, exact, re string) (Pattern, bool) {
	switch {
	case exact != "" && re != "":
		c.errorf(field, "has both %q and %q; keep one", name, name+"RegExp")
		return Pattern{}, false
	case re != "":
		r, err := regexp.Compile(anchor(re))
		if err != nil {
			c.errorf(field+"."+name+"RegExp", "%q is not a valid regular expression: %v; use Go (RE2) syntax", re, err)
			return Pattern{}, false
		}
		return Pattern{RegExp: r}, true
	}
	return Pattern{Exact: exact}, true
}

// CheckIssuer accepts an OIDC issuer URL: https, or http on a loopback
// address (a test issuer), without query, fragment or user information.
func CheckIssuer(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return fmt.Errorf("is empty; write the OIDC issuer, %q for GitHub.com or \"https://HOST/_services/token\" for GitHub Enterprise Server", "https://token.actions.githubusercontent.com")
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("%q is not an issuer URL; write it like %q", s, "https://token.actions.githubusercontent.com")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q is not an https URL; an issuer's keys must come over https (http only on a loopback address, for tests)", s)
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
