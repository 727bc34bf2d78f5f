package policy

import (
	"net/url"
	"strings"
)

// NormalizeRepository reduces a source repository URI to the form policies
// compare: without a "git+" prefix, a "@ref" suffix, a ".git" suffix or a
// trailing slash, with the scheme and host in lower case. So
// "git+https://GitHub.com/o/r.git@refs/tags/v1" and "https://github.com/o/r"
// name the same repository. Paths keep their case.
func NormalizeRepository(uri string) string {
	s := strings.TrimSpace(uri)
	s = strings.TrimPrefix(s, "git+")
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	}
	path, _, _ := strings.Cut(u.Path, "@")
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	host := strings.ToLower(u.Host)
	if u.User != nil {
		host = u.User.String() + "@" + host
	}
	return strings.ToLower(u.Scheme) + "://" + host + path
}

// anchor makes a regular expression match whole values only.
func anchor(re string) string { return `^(?:` + re + `)$` }

// unanchor returns the expression as the policy wrote it.
func unanchor(re string) string {
	return strings.TrimSuffix(strings.TrimPrefix(re, `^(?:`), `)$`)
}
