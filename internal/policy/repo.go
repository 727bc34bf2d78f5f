package policy

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// repoSchemes are the schemes a source repository URI may use, with their
// default ports (dropped when written out).
var repoSchemes = map[string]string{"https": "443", "http": "80", "ssh": "22", "git": "9418"}

// ParseRepository reduces a source repository URI to the form policies
// compare: without a "git+" prefix, a "@ref" (or "#ref") suffix, a ".git"
// suffix, a trailing slash or a default port, with the scheme and host in
// lower case and the path decoded. So
// "git+https://GitHub.com/o/r.git@refs/tags/v1" and "https://github.com/o/r"
// name the same repository. Paths keep their case.
//
// It refuses what a client could resolve to another repository than the
// one the text seems to name: dot segments (also percent-encoded), a query,
// a fragment or "@" suffix that is not a git ref, user information in an
// http(s) URI ("https://github.com@evil.example/…"), a password,
// backslashes, empty path segments, encoded slashes, whitespace and other
// characters a repository path never holds.
func ParseRepository(uri string) (string, error) {
	for i := 0; i < len(uri); i++ {
		switch c := uri[i]; {
		case c <= ' ' || c >= 0x7f:
			return "", fmt.Errorf("holds the byte %q at offset %d; a repository URI is printable ASCII without spaces", c, i)
		case c == '\\':
			return "", errors.New("holds a backslash, which some clients read as a slash; write the URI with \"/\" only")
		case c == '?':
			return "", errors.New("has a query (\"?…\"), which a server may resolve to another repository; remove it")
		}
	}
	s := uri
	if len(s) >= 4 && strings.EqualFold(s[:4], "git+") {
		s = s[4:]
	}
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	defPort, known := repoSchemes[scheme]
	if !ok || !known {
		return "", errors.New("is not an https, http, ssh or git URL; write it like \"git+https://github.com/owner/repo\"")
	}
	rest, fragment, hasFragment := strings.Cut(rest, "#")
	authority, p, _ := strings.Cut(rest, "/")
	host, err := repoAuthority(scheme, authority, defPort)
	if err != nil {
		return "", err
	}
	p, ref, hasRef := strings.Cut(p, "@")
	switch {
	case hasRef && hasFragment:
		return "", errors.New("names a ref twice (\"@…\" and \"#…\"); keep one")
	case hasRef:
		if err := checkRef(ref); err != nil {
			return "", fmt.Errorf("has %q after \"@\", which %w", ref, err)
		}
	case hasFragment:
		if err := checkRef(fragment); err != nil {
			return "", fmt.Errorf("has the fragment %q, which %w", fragment, err)
		}
	}
	segs, err := repoPath(p)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host + "/" + strings.Join(segs, "/"), nil
}

// repoAuthority checks "[user@]host[:port]" and returns it normalized.
func repoAuthority(scheme, authority, defPort string) (string, error) {
	user, hostport, hasUser := strings.Cut(authority, "@")
	if !hasUser {
		hostport, user = user, ""
	}
	if hasUser {
		switch {
		case scheme != "ssh":
			return "", fmt.Errorf("has user information (%q) before the host; an %s repository URI names no user (\"https://github.com@evil.example/…\" is evil.example): remove it", user+"@", scheme)
		case strings.Contains(hostport, "@"):
			return "", errors.New("has more than one \"@\" before the path; write ssh://user@host/owner/repo")
		case strings.Contains(user, ":"):
			return "", errors.New("holds a password; never write credentials into a repository URI")
		case user == "" || !allChars(user, isNameChar):
			return "", fmt.Errorf("has the user name %q; want letters, digits, \".\", \"_\", \"-\"", user)
		}
		user += "@"
	}
	host, port, hasPort := strings.Cut(strings.ToLower(hostport), ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || !allChars(port, func(c byte) bool { return c >= '0' && c <= '9' }) {
			return "", fmt.Errorf("has the port %q; want a number from 1 to 65535", port)
		}
		if port == defPort {
			hasPort = false
		}
	}
	if !validHost(host) {
		return "", fmt.Errorf("has the host %q; want a DNS name such as \"github.com\"", host)
	}
	if hasPort {
		host += ":" + port
	}
	return user + host, nil
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' ||
			!allChars(label, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }) {
			return false
		}
	}
	return true
}

// repoPath decodes and checks the path after the host and returns its
// segments, without a trailing slash or ".git".
func repoPath(p string) ([]string, error) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil, errors.New("has no repository path; write it like \"https://github.com/owner/repo\"")
	}
	raw := strings.Split(p, "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		seg, err := url.PathUnescape(r)
		if err != nil {
			return nil, fmt.Errorf("has the path segment %q, which is not valid percent-encoding", r)
		}
		if i == len(raw)-1 {
			for strings.HasSuffix(seg, ".git") {
				seg = strings.TrimSuffix(seg, ".git")
			}
		}
		switch {
		case r == "":
			return nil, fmt.Errorf("has an empty path segment in %q; write each \"/\" once", p)
		case seg == "":
			return nil, fmt.Errorf("has no repository name before \".git\" in %q", p)
		case seg == "." || seg == "..":
			return nil, fmt.Errorf("has the dot segment %q in its path, which moves a client to another directory; name the repository directly", r)
		case !allChars(seg, isNameChar):
			return nil, fmt.Errorf("has the path segment %q (%q decoded); a repository path holds only letters, digits, \".\", \"_\", \"-\" and \"~\"", r, seg)
		}
		segs[i] = seg
	}
	return segs, nil
}

// checkRef checks that s is a git ref or commit, as "@ref" or "#ref" may
// carry, and nothing a client could read as a path.
func checkRef(s string) error {
	if s == "" {
		return errors.New("is empty; write a ref such as \"refs/tags/v1\", or nothing")
	}
	for _, c := range []byte(s) {
		if !isNameChar(c) && c != '/' && c != '+' || c == '~' {
			return fmt.Errorf("is not a git ref: it holds %q; a ref holds letters, digits, \".\", \"_\", \"-\", \"+\" and \"/\"", c)
		}
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part[0] == '.' || strings.HasSuffix(part, ".lock") || strings.HasSuffix(part, ".") {
			return fmt.Errorf("is not a git ref: %q has an empty or dot component", s)
		}
	}
	return nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '~'
}

func allChars(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// anchor makes a regular expression match whole values only.
func anchor(re string) string { return `^(?:` + re + `)$` }

// unanchor returns the expression as the policy wrote it.
func unanchor(re string) string {
	return strings.TrimSuffix(strings.TrimPrefix(re, `^(?:`), `)$`)
}
