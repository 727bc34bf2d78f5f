package policy_test

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

func TestParseRepository(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"git+https://github.com/o/r":                    "https://github.com/o/r",
		"git+https://GitHub.com/o/r.git@refs/tags/v1":   "https://github.com/o/r",
		"https://github.com/o/r":                        "https://github.com/o/r",
		"https://github.com/o/r/":                       "https://github.com/o/r",
		"HTTPS://github.com:443/o/r.git":                "https://github.com/o/r",
		"git+ssh://git@github.com/o/r.git":              "ssh://git@github.com/o/r",
		"https://github.com/O/R":                        "https://github.com/O/R",
		"https://github.com/o/r@0123456789abcdef":       "https://github.com/o/r",
		"git+https://github.com/o/r#refs/heads/main":    "https://github.com/o/r",
		"https://github.com/o/.github":                  "https://github.com/o/.github",
		"https://gitlab.example:8443/group/sub/r.git":   "https://gitlab.example:8443/group/sub/r",
		"https://git.sr.ht/~user/repo":                  "https://git.sr.ht/~user/repo",
		"https://github.com/o/r%2Egit":                  "https://github.com/o/r",
		"https://github.com/%6F/r":                      "https://github.com/o/r",
		"https://github.com/o/r@refs/tags/v1.2.3+build": "https://github.com/o/r",
	} {
		got, err := policy.ParseRepository(in)
		if err != nil || got != want {
			t.Errorf("ParseRepository(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseRepositoryRefuses(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://github.com/o/r@/../../evil/repo":     `has "/../../evil/repo" after "@", which is not a git ref`,
		"https://github.com/o/r@refs/../../evil":      "has an empty or dot component",
		"https://github.com/o/r/../../evil/repo":      `has the dot segment ".."`,
		"https://github.com/o/r/%2e%2e/%2E%2E/evil/r": `has the dot segment "%2e%2e"`,
		"https://github.com/o/./r":                    `has the dot segment "."`,
		"https://github.com/o/r%2f..%2fevil":          `has the path segment "r%2f..%2fevil"`,
		"https://github.com/o/r%252e%252e":            `("r%2e%2e" decoded)`,
		"https://github.com/o/r?x=../../evil":         "has a query",
		"https://github.com/o/r?":                     "has a query",
		"https://github.com/o/r#/../../evil":          `has the fragment "/../../evil", which is not a git ref`,
		"https://github.com/o/r#egg=x":                `is not a git ref: it holds '='`,
		"https://github.com@evil.example/o/r":         `has user information ("github.com@")`,
		"https://user:pw@github.com/o/r":              "has user information",
		"ssh://git:secret@github.com/o/r":             "holds a password",
		"ssh://a@b@github.com/o/r":                    `more than one "@"`,
		`https://github.com\@evil.example/o/r`:        "backslash",
		`https://github.com/o/r\..\..\evil`:           "backslash",
		"https://github.com//o/r":                     "empty path segment",
		"https://github.com/o//r":                     "empty path segment",
		"https://github.com/o/.git":                   `no repository name before ".git"`,
		"https://github.com/o/..git":                  "dot segment",
		"https://github.com":                          "has no repository path",
		"https://github.com/":                         "has no repository path",
		"https://github.com:x/o/r":                    `has the port "x"`,
		"https://github.com:0/o/r":                    `has the port "0"`,
		"https://evil_host/o/r":                       `has the host "evil_host"`,
		"https://github.com./o/r":                     `has the host "github.com."`,
		"https:///o/r":                                `has the host ""`,
		"file:///etc/r":                               "is not an https, http, ssh or git URL",
		"github.com/o/r":                              "is not an https, http, ssh or git URL",
		"git@github.com:o/r.git":                      "is not an https, http, ssh or git URL",
		"https://github.com/o/r@v1#main":              "names a ref twice",
		"https://github.com/o/r@":                     `has "" after "@", which is empty`,
		"https://github.com/o/r evil":                 `holds the byte ' '`,
		"https://github.com/o/r\n":                    `holds the byte '\n'`,
		"https://gïthub.com/o/r":                      "printable ASCII",
		"https://github.com/o/r;x":                    `has the path segment "r;x"`,
	} {
		got, err := policy.ParseRepository(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRepository(%q) = %q, %v; want an error containing %q", in, got, err, want)
		}
	}
}

// TestMatchSourceRefusesPathTricks is the regression test for a source
// that a client resolves to another repository: before ParseRepository,
// "@" cut the path and this matched the policy's repository.
func TestMatchSourceRefusesPathTricks(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse([]byte(header+"keys:\n  - name: k\n    pem: |\n"+indent(string(mustPub(t)), 6)+"\nsourceRepositories: [git+https://github.com/o/r]\n"), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"https://github.com/o/r@/../../evil/repo", "git+https://github.com/o/r/%2e%2e/%2e%2e/evil/repo", "https://github.com/o/r?/../../evil"} {
		if i, err := p.MatchSource(uri); err == nil || i >= 0 {
			t.Errorf("MatchSource(%q) = %d, %v; want no match and an error", uri, i, err)
		}
	}
	if i, err := p.MatchSource("git+https://GitHub.com/o/r.git@refs/tags/v1"); err != nil || i != 0 {
		t.Errorf("MatchSource(the repository at a tag) = %d, %v; want 0", i, err)
	}
}

// FuzzParseRepository checks that what ParseRepository accepts is stable
// (normalizing twice changes nothing) and names the host and the path a
// client resolving the URI reaches: the normalized host is net/url's, and
// the client's cleaned path starts with the normalized path.
func FuzzParseRepository(f *testing.F) {
	for _, s := range []string{"git+https://github.com/o/r.git@refs/tags/v1", "https://github.com/o/r@/../../evil/repo",
		"ssh://git@github.com/o/r", "https://github.com/o/r%2e%2e", "https://github.com@evil.example/o/r", "https://h:443/a/b/c/#x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := policy.ParseRepository(in)
		if err != nil {
			return
		}
		again, err := policy.ParseRepository(out)
		if err != nil || again != out {
			t.Fatalf("ParseRepository(%q) = %q, which normalizes to %q, %v", in, out, again, err)
		}
		if strings.ContainsAny(out, "?#%\\") {
			t.Fatalf("ParseRepository(%q) = %q holds a character a client resolves elsewhere", in, out)
		}
		want, err := url.Parse(out)
		if err != nil {
			t.Fatalf("ParseRepository(%q) = %q does not parse: %v", in, out, err)
		}
		if path.Clean(want.Path) != want.Path {
			t.Fatalf("ParseRepository(%q) = %q has a path that is not clean", in, out)
		}
		s := in
		if strings.HasPrefix(strings.ToLower(s), "git+") {
			s = s[4:]
		}
		got, err := url.Parse(s)
		if err != nil {
			t.Fatalf("net/url refuses %q, which ParseRepository accepted as %q: %v", s, out, err)
		}
		if !strings.EqualFold(got.Hostname(), want.Hostname()) {
			t.Fatalf("a client of %q contacts %q, but ParseRepository says %q", in, got.Hostname(), want.Hostname())
		}
		if client := path.Clean("/" + got.Path); !strings.HasPrefix(client, want.Path) {
			t.Fatalf("a client of %q reaches the path %q, but ParseRepository says %q", in, client, want.Path)
		}
	})
}

func mustPub(t *testing.T) []byte {
	t.Helper()
	_, pub := policytest.NewKeypair(t)
	return pub
}
