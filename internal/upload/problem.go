package upload

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/problem"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Problem is what the server said when it refused a request (RFC 9457
// problem details or OCI error JSON), its text cleaned by internal/problem.
type Problem = problem.Details

// OCIError is one entry of the OCI distribution spec's error JSON.
type OCIError = problem.OCIError

// ServerError is an answer the server gave instead of doing what was
// asked: Op says what was asked, Status and Problem what came back.
type ServerError struct {
	Op      string
	Status  int
	Problem Problem
	// Text is the start of a body that was neither kind of JSON.
	Text string
}

// Code is the exit code the refusal ends the command with: 1 for a release
// the server refused (a failed check, a missing blob, a digest mismatch),
// 2 for a request it could not accept (authentication, a malformed or
// oversized manifest or blob), 3 for a server failing or overloaded.
func (e *ServerError) Code() exitcode.Code {
	switch {
	case e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusConflict:
		return exitcode.Failed
	case e.Status == http.StatusBadRequest && e.ociCode() == "DIGEST_INVALID":
		return exitcode.Failed
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return exitcode.Internal
	case e.Status >= 400:
		return exitcode.Usage
	}
	return exitcode.Internal
}

func (e *ServerError) ociCode() string {
	if len(e.Problem.Errors) == 0 {
		return ""
	}
	return e.Problem.Errors[0].Code
}

func (e *ServerError) Error() string {
	p := e.Problem
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the server answered %d %s", e.Op, e.Status, http.StatusText(e.Status))
	switch {
	case p.Check != "":
		fmt.Fprintf(&b, ": check %q failed", p.Check)
		if p.Subject != "" {
			fmt.Fprintf(&b, " for %q", p.Subject)
		}
	case p.Title != "":
		fmt.Fprintf(&b, " (%s)", p.Title)
	}
	fix := p.Detail
	for _, o := range p.Errors {
		msg := o.Code
		if o.Message != "" {
			msg += ": " + o.Message
		}
		if len(o.Detail) > 0 && string(o.Detail) != "null" {
			msg += " (" + string(o.Detail) + ")"
		}
		fix = strings.TrimPrefix(fix+"; "+msg, "; ")
	}
	if fix == "" {
		fix = e.Text
	}
	if fix != "" {
		fmt.Fprintf(&b, ": %s", fix)
	}
	if p.RequestID != "" {
		fmt.Fprintf(&b, " (request id %q)", p.RequestID)
	}
	if hint := e.hint(); hint != "" {
		fmt.Fprintf(&b, "; %s", hint)
	}
	return clean(b.String())
}

// hint is what to do when the server's own words may not say it.
func (e *ServerError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "give a valid token (SLIPWAY_TOKEN, the token input) or run in a job with \"permissions: id-token: write\" and the server's audience"
	case http.StatusForbidden:
		return "use a token with scope \"upload\" (slipway token create --scope upload), or ask the server's operator for an uploader rule"
	case http.StatusNotFound:
		return "check --server: it must be the base URL of slipway serve"
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return "the server is overloaded or restarting; try again later"
	}
	if e.Status >= 500 && e.Problem.Detail == "" {
		return "the server's log has the cause; try again later or tell its operator"
	}
	return ""
}

// readProblem reads the error answer of resp (at most maxErrorBody bytes)
// into a *ServerError for op. It closes the body.
func readProblem(op string, resp *http.Response) *ServerError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return parseProblem(op, resp.StatusCode, body)
}

// parseProblem interprets an error answer's body: problem+json, OCI error
// JSON, or text (internal/problem).
func parseProblem(op string, status int, body []byte) *ServerError {
	e := &ServerError{Op: op, Status: status}
	e.Problem, e.Text = problem.Parse(body)
	return e
}

// clean replaces control characters with spaces (problem.Clean).
func clean(s string) string { return problem.Clean(s) }
