package ghclient_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/slipway/actions/internal/ghclient"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

func client(t *testing.T, gh *githubfake.Server, r ghclient.Retry) *ghclient.Client {
	t.Helper()
	c, err := ghclient.New(ghclient.Options{APIURL: gh.URL, Token: githubfake.Token, Retry: r})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func createIssue(ctx context.Context, c *ghclient.Client, title string) error {
	return c.Do(ctx, "opening an issue", false, func(ctx context.Context) (*github.Response, error) {
		_, resp, err := c.Issues.Create(ctx, "o", "r", &github.IssueRequest{Title: &title})
		return resp, err
	})
}

func listIssues(ctx context.Context, c *ghclient.Client) error {
	return c.Do(ctx, "listing issues", true, func(ctx context.Context) (*github.Response, error) {
		_, resp, err := c.Issues.ListByRepo(ctx, "o", "r", nil)
		return resp, err
	})
}

// TestRetry: GitHub's rate limits (primary 403 with X-RateLimit-Remaining 0,
// secondary 403 with Retry-After, 429) are waited out and the call made
// again; a reset beyond the cap, a 422 and a POST's server error are not;
// a GET's server error is retried with backoff.
func TestRetry(t *testing.T) {
	t.Parallel()
	secondary := http.Header{"Retry-After": {"1"}}
	tests := []struct {
		name     string
		route    string
		faults   func() []githubfake.Fault
		call     func(context.Context, *ghclient.Client) error
		wantErr  string
		wantReqs int
		minWait  time.Duration
	}{
		{name: "primary limit resets soon", route: "POST /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 403, Body: "rate_limit_primary", Header: githubfake.RateLimitHeaders(time.Now().Add(time.Second))}}
			},
			call: func(ctx context.Context, c *ghclient.Client) error { return createIssue(ctx, c, "t") }, wantReqs: 2, minWait: time.Second},
		{name: "secondary limit with Retry-After", route: "POST /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 403, Body: "rate_limit_secondary", Header: secondary}}
			},
			call: func(ctx context.Context, c *ghclient.Client) error { return createIssue(ctx, c, "t") }, wantReqs: 2, minWait: time.Second},
		{name: "429 with Retry-After", route: "GET /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 429, Body: "rate_limit_secondary", Header: secondary}}
			},
			call: listIssues, wantReqs: 2, minWait: time.Second},
		{name: "primary limit beyond the cap", route: "POST /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 403, Body: "rate_limit_primary", Header: githubfake.RateLimitHeaders(time.Now().Add(time.Hour))}}
			},
			call:    func(ctx context.Context, c *ghclient.Client) error { return createIssue(ctx, c, "t") },
			wantErr: "rate limit for this token is exhausted", wantReqs: 1},
		{name: "422 is not retried", route: "POST /repos/o/r/issues",
			call:    func(ctx context.Context, c *ghclient.Client) error { return createIssue(ctx, c, "") },
			wantErr: "422 Validation Failed", wantReqs: 1},
		{name: "GET server error retried", route: "GET /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 502, Body: "server_error"}, {Status: 503, Body: "server_error"}}
			},
			call: listIssues, wantReqs: 3},
		{name: "POST server error not retried", route: "POST /repos/o/r/issues",
			faults:  func() []githubfake.Fault { return []githubfake.Fault{{Status: 502, Body: "server_error"}} },
			call:    func(ctx context.Context, c *ghclient.Client) error { return createIssue(ctx, c, "t") },
			wantErr: "502", wantReqs: 1},
		{name: "GET server errors until the attempts run out", route: "GET /repos/o/r/issues",
			faults: func() []githubfake.Fault {
				return []githubfake.Fault{{Status: 500, Body: "server_error"}, {Status: 500, Body: "server_error"}, {Status: 500, Body: "server_error"}}
			},
			call: listIssues, wantErr: "gave up after 3 attempts", wantReqs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t, "o", "r")
			if tt.faults != nil {
				gh.Fail(tt.route, tt.faults()...)
			}
			c := client(t, gh, ghclient.Retry{Attempts: 3, Base: 10 * time.Millisecond, MaxWait: 5 * time.Second})
			start := time.Now()
			err := tt.call(context.Background(), c)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), githubfake.Token) {
				t.Fatalf("the error carries the token: %v", err)
			}
			if took := time.Since(start); took < tt.minWait {
				t.Errorf("returned after %s, before the %s GitHub asked for", took, tt.minWait)
			}
			gh.Lock()
			defer gh.Unlock()
			if len(gh.Requests) != tt.wantReqs {
				t.Errorf("requests = %q, want %d", gh.Requests, tt.wantReqs)
			}
		})
	}
}

// TestRetryCancelled: a wait for a rate limit ends with the context.
func TestRetryCancelled(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "o", "r")
	gh.Fail("GET /repos/o/r/issues", githubfake.Fault{Status: 429, Body: "rate_limit_secondary", Header: http.Header{"Retry-After": {"60"}}})
	c := client(t, gh, ghclient.Retry{MaxWait: 2 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := listIssues(ctx, c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s after the context ended", took)
	}
}

// TestNewRefuses: the token never travels in the clear, nor in the URL.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ url, token, want string }{
		{"https://api.github.com", "", "no GitHub token"},
		{"http://github.example.org/api/v3", "t", "plain http"},
		{"https://user:pw@api.github.com", "t", "carries credentials"},
		{"ftp://x", "t", "not an http(s) URL"},
	} {
		_, err := ghclient.New(ghclient.Options{APIURL: tt.url, Token: tt.token})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.url, err, tt.want)
		}
	}
	for url, upload := range map[string]string{
		"":                               "https://uploads.github.com/",
		"https://ghe.example.org/api/v3": "https://ghe.example.org/api/uploads/",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080/",
	} {
		c, err := ghclient.New(ghclient.Options{APIURL: url, Token: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.UploadURL.String(); got != upload {
			t.Errorf("%q: upload URL %q, want %q", url, got, upload)
		}
	}
}

// TestRetryReasons: the log says why a call is tried again (a rate limit, a
// server error, no answer), and a host the resolver does not know fails at
// once, naming the host and the input that sets it.
func TestRetryReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fault    githubfake.Fault
		dial     error // the transport's answer instead of the fake's
		wantLog  string
		wantErr  string
		wantReqs int
	}{
		{name: "rate limit", fault: githubfake.Fault{Status: 429, Body: "rate_limit_secondary", Header: http.Header{"Retry-After": {"0"}}},
			wantLog: "GitHub asked to wait; retrying", wantReqs: 2},
		{name: "server error", fault: githubfake.Fault{Status: 502, Body: "server_error"},
			wantLog: "GitHub answered a server error; retrying", wantReqs: 2},
		{name: "no answer", dial: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNRESET},
			wantLog: "GitHub did not answer; retrying", wantErr: "gave up after 3 attempts"},
		{name: "unknown host", dial: &net.DNSError{Err: "no such host", Name: "api.github.invalid", IsNotFound: true},
			wantErr: `(the resolver knows no host "api.github.invalid": check the API URL, the github-api-url input or GITHUB_API_URL)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := githubfake.New(t, "o", "r")
			var log bytes.Buffer
			r := ghclient.Retry{Attempts: 3, Base: time.Millisecond, MaxWait: time.Second, Log: slog.New(slog.NewTextHandler(&log, nil))}
			o := ghclient.Options{APIURL: gh.URL, Token: githubfake.Token, Retry: r}
			dials := 0
			if tt.dial != nil {
				o.HTTP = &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
					dials++
					return nil, tt.dial
				}}}
			} else {
				gh.Fail("GET /repos/o/r/issues", tt.fault)
			}
			c, err := ghclient.New(o)
			if err != nil {
				t.Fatal(err)
			}
			err = listIssues(context.Background(), c)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			}
			if tt.wantLog != "" && !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log = %q, want %q", log.String(), tt.wantLog)
			}
			if tt.wantLog == "" && log.Len() > 0 {
				t.Errorf("log = %q, want no retry", log.String())
			}
			if tt.dial != nil {
				if want := map[bool]int{true: 1, false: 3}[tt.wantLog == ""]; dials != want {
					t.Errorf("dialled %d times, want %d", dials, want)
				}
				return
			}
			gh.Lock()
			defer gh.Unlock()
			if len(gh.Requests) != tt.wantReqs {
				t.Errorf("requests = %q, want %d", gh.Requests, tt.wantReqs)
			}
		})
	}
}
