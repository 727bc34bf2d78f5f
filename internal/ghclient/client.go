package ghclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v62/github"
)

// DefaultAPIURL is GitHub.com's REST API; Actions sets GITHUB_API_URL to it
// (or to a GitHub Enterprise Server's https://HOST/api/v3).
const DefaultAPIURL = "https://api.github.com"

// Options say which GitHub to talk to, as whom.
type Options struct {
	// APIURL is the REST API's base URL (GITHUB_API_URL); empty for
	// DefaultAPIURL. Plain http is accepted only for a loopback host.
	APIURL string
	// Token authenticates every request (a GITHUB_TOKEN or a PAT).
	Token string
	// HTTP sends the requests; nil for a client with no timeout of its own
	// (the context bounds each call).
	HTTP *http.Client
	// Retry is the retry policy; its zero value is the defaults.
	Retry Retry
}

// Client is a go-github client with the retry policy its calls run under.
type Client struct {
	*github.Client
	Retry Retry
}

// New returns a client for o.APIURL. Release assets are uploaded to
// uploads.github.com for GitHub.com, to HOST/api/uploads for an Enterprise
// Server (APIURL ending in /api/v3) and to APIURL itself otherwise (a
// server that serves both, as the tests' does).
func New(o Options) (*Client, error) {
	if o.Token == "" {
		return nil, errors.New("no GitHub token: set GITHUB_TOKEN (the github-token input; in a workflow the job's token by default)")
	}
	api, upload, err := urls(o.APIURL)
	if err != nil {
		return nil, err
	}
	c := github.NewClient(o.HTTP).WithAuthToken(o.Token)
	c.BaseURL, c.UploadURL = api, upload
	c.UserAgent = "slipway"
	return &Client{Client: c, Retry: o.Retry}, nil
}

func urls(raw string) (api, upload *url.URL, err error) {
	if raw == "" {
		raw = DefaultAPIURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, nil, fmt.Errorf("GitHub API URL %q is not an http(s) URL; give GITHUB_API_URL as the runner sets it (https://api.github.com)", raw)
	}
	if u.User != nil {
		return nil, nil, fmt.Errorf("GitHub API URL %q carries credentials; give the token in GITHUB_TOKEN instead", u.Redacted())
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, nil, fmt.Errorf("GitHub API URL %q is plain http to a host that is not loopback; the token would travel in the clear: use https", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	up := *u
	switch {
	case u.Host == "api.github.com":
		up = url.URL{Scheme: "https", Host: "uploads.github.com", Path: "/"}
	case strings.HasSuffix(u.Path, "/api/v3/"):
		up.Path = strings.TrimSuffix(u.Path, "v3/") + "uploads/"
	}
	return u, &up, nil
}

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// SplitRepository splits "owner/name" (GITHUB_REPOSITORY).
func SplitRepository(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") || strings.ContainsAny(repo, " \t\n?#%") {
		return "", "", fmt.Errorf("repository %q is not OWNER/NAME; give it as GITHUB_REPOSITORY does (octo-org/octo-repo)", repo)
	}
	return owner, name, nil
}
