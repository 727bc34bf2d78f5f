package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/jobjson"
)

// Versions are the OpenAPI versions this backend speaks, oldest first.
var Versions = []string{"v0.0.38", "v0.0.40", "v0.0.41", "v0.0.42"}

// Options configure the backend.
type Options struct {
	// URL is slurmrestd's base URL ("http://127.0.0.1:6820").
	URL string
	// User is the Slurm user the token was issued for (X-SLURM-USER-NAME).
	User string
	// Token returns the JWT (`scontrol token username=USER`); it is asked at
	// every request and never logged.
	Token func(ctx context.Context) (string, error)
	// APIVersion is one of Versions; "" detects it from GET /openapi/v3.
	APIVersion string
	// HTTPClient is used for every request (nil: a client without a
	// timeout of its own; contexts bound the requests). Redirects are never
	// followed.
	HTTPClient *http.Client
}

// Backend talks to slurmrestd. It is safe for concurrent use.
type Backend struct {
	o      Options
	base   *url.URL
	err    error // from New: reported by every call
	client *http.Client

	mu      sync.Mutex
	version string
}

var _ slurm.Backend = (*Backend)(nil)

// Limits on slurmrestd's answers.
const (
	maxAnswer  = 256 << 20 // a job list of a very busy cluster
	maxOpenAPI = 64 << 20
)

// New returns the backend; a bad option is reported by every call.
func New(o Options) *Backend {
	b := &Backend{o: o}
	u, err := url.Parse(o.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		b.err = exitcode.BadInputf("slurm: slurmrestd URL %q is not http(s)://HOST[:PORT][/PATH] without credentials, query or fragment: set it so", o.URL)
	case o.User == "":
		b.err = exitcode.BadInputf("slurm: no Slurm user name for slurmrestd: set the user the JWT was issued for")
	case o.Token == nil:
		b.err = exitcode.BadInputf("slurm: no token source for slurmrestd: pass the JWT from `scontrol token username=%s`", o.User)
	case o.APIVersion != "" && !slices.Contains(Versions, o.APIVersion):
		b.err = exitcode.BadInputf("slurm: slurmrestd API version %q is not one of %s: pick one, or leave it empty to detect it", o.APIVersion, strings.Join(Versions, ", "))
	}
	b.base = u
	b.version = o.APIVersion
	c := o.HTTPClient
	if c == nil {
		c = &http.Client{}
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.client = &cc
	return b
}

// answer is one HTTP exchange's outcome.
type answer struct {
	status int
	body   []byte
	resp   jobjson.Response
}

// do sends one request with the JWT headers and reads the answer (at most
// limit bytes); it does not judge the status.
func (b *Backend) do(ctx context.Context, method, path string, body any, limit int64) (*answer, error) {
	if b.err != nil {
		return nil, b.err
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("slurm: encoding the request to %s: %w", path, err)
		}
		rd = bytes.NewReader(data)
	}
	u := *b.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("slurm: %s %s: %w", method, path, err)
	}
	tok, err := b.o.Token(ctx)
	if err != nil {
		return nil, exitcode.Infraf("slurm: getting the JWT for slurmrestd: %v: check `scontrol token username=%s`", err, b.o.User)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, "\r\n\x00 ") {
		return nil, exitcode.Infraf("slurm: the JWT for slurmrestd is empty or has spaces or control characters: pass the token alone, as `scontrol token` prints it after SLURM_JWT=")
	}
	req.Header.Set("X-SLURM-USER-NAME", b.o.User)
	req.Header.Set("X-SLURM-USER-TOKEN", tok)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("slurm: %s %s: %w", method, path, context.Cause(ctx))
		}
		return nil, exitcode.Infraf("slurm: %s %s%s: %v: is slurmrestd running there?", method, b.o.URL, path, scrub(err, tok))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, exitcode.Infraf("slurm: reading slurmrestd's answer to %s %s: %v", method, path, err)
	}
	if int64(len(data)) > limit {
		return nil, exitcode.Infraf("slurm: slurmrestd's answer to %s %s is larger than %d bytes: ask a Slurm administrator why", method, path, limit)
	}
	a := &answer{status: resp.StatusCode, body: data}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, exitcode.Infraf("slurm: slurmrestd answered %s %s with a redirect (%d) to %q, which is not followed (the token would go along): set the URL to slurmrestd itself", method, path, resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.HasPrefix(strings.TrimSpace(string(data)), "{") {
		_ = json.Unmarshal(data, &a.resp) // errors[] when the answer has them; judged by check
	}
	return a, nil
}

// scrub removes the token from an error text (a transport error could quote a request).
func scrub(err error, tok string) string {
	s := err.Error()
	if tok != "" {
		s = strings.ReplaceAll(s, tok, "<token>")
	}
	return s
}

// apiError is an answer that is not a success, with what to do.
type apiError struct {
	op     string
	status int
	errs   []jobjson.Error
	hint   string
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "slurm: slurmrestd %s: HTTP %d", e.op, e.status)
	for i, x := range e.errs {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.errs)-3)
			break
		}
		b.WriteString(": ")
		b.WriteString(x.String())
	}
	if e.hint != "" {
		b.WriteString(": ")
		b.WriteString(e.hint)
	}
	return b.String()
}

// has reports whether Slurm answered with error number n.
func (e *apiError) has(n int) bool {
	return slices.ContainsFunc(e.errs, func(x jobjson.Error) bool { return x.Num() == n })
}

// check turns a failed answer into an error: HTTP status not 2xx, or errors[].
func (b *Backend) check(op string, a *answer) error {
	if a.status >= 200 && a.status < 300 && len(a.resp.Errors) == 0 {
		return nil
	}
	e := &apiError{op: op, status: a.status, errs: a.resp.Errors}
	if len(e.errs) == 0 && len(a.body) > 0 && !strings.HasPrefix(strings.TrimSpace(string(a.body)), "{") {
		e.errs = []jobjson.Error{{Error: strings.TrimSpace(clip(string(a.body)))}}
	}
	auth := fmt.Sprintf("get a new JWT with `scontrol token username=%s lifespan=SECONDS` (it may have expired or be for another user), and check that slurmrestd runs with -a rest_auth/jwt and slurmctld with AuthAltTypes=auth/jwt", b.o.User)
	switch {
	case a.status == http.StatusUnauthorized:
		e.hint = "slurmrestd refused the credentials: " + auth
		return exitcode.Infra(e)
	case a.status == http.StatusForbidden:
		e.hint = fmt.Sprintf("user %q may not do this: ask a Slurm administrator", b.o.User)
		return exitcode.Infra(e)
	case a.status == http.StatusNotFound && len(e.errs) == 0:
		e.hint = fmt.Sprintf("this slurmrestd does not serve that path: start it with -s openapi/%s, or leave the API version empty to detect what it serves", b.currentVersion())
		return exitcode.Infra(e)
	case e.has(-1) && slices.ContainsFunc(e.errs, func(x jobjson.Error) bool { return x.Error == "Unspecified error" }):
		// 22.05 answers a refused or expired JWT this way (500, error_number -1).
		e.hint = "slurmctld refused the request: " + auth + "; or slurmctld is down (`scontrol ping`)"
		return exitcode.Infra(e)
	case a.status >= 500 && len(e.errs) == 0:
		e.hint = "slurmrestd or slurmctld failed: check their logs and `scontrol ping`"
		return exitcode.Infra(e)
	}
	return e
}

func (b *Backend) currentVersion() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.version == "" {
		return Versions[len(Versions)-1]
	}
	return b.version
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

var errNoVersion = errors.New("no supported version")
