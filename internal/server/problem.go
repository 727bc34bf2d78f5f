package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ProblemTypePrefix starts every problem type URI; docs/server.md lists
// the types.
const ProblemTypePrefix = "urn:slipway:problem:"

// Problem is an error answered as application/problem+json (RFC 9457). Its
// Detail says what to fix; Cause is logged, never sent.
type Problem struct {
	Status int
	// Type is the last part of the type URI ("unauthorized").
	Type   string
	Title  string
	Detail string
	// Challenge, when set, is sent as WWW-Authenticate.
	Challenge string
	// RetryAfter, when positive, is sent as Retry-After (seconds).
	RetryAfter int
	// Check, when set, names the check that failed (an OIDC ID token's
	// "aud", say), sent as "check".
	Check string
	Cause error
}

func (p *Problem) Error() string {
	if p.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", p.Status, p.Type, p.Detail, p.Cause)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Type, p.Detail)
}

func (p *Problem) Unwrap() error { return p.Cause }

// problemBody is the JSON of a Problem.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Check     string `json:"check,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// HandlerFunc is an endpoint: it writes its answer, or returns an error
// that the server renders (a *Problem as is, anything else as a 500).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// render answers err as a problem; it returns the problem sent.
func render(w http.ResponseWriter, r *http.Request, err error) *Problem {
	var p *Problem
	if !errors.As(err, &p) {
		p = &Problem{Status: http.StatusInternalServerError, Type: "internal", Title: "Internal server error",
			Detail: "the server failed to answer; the server's log has the cause under this request id, retry later or tell its operator", Cause: err}
	}
	h := w.Header()
	if p.Challenge != "" {
		h.Set("WWW-Authenticate", p.Challenge)
	}
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	id := requestID(r.Context())
	body := problemBody{Type: ProblemTypePrefix + p.Type, Title: p.Title, Status: p.Status, Detail: p.Detail, Check: p.Check, RequestID: id}
	if id != "" {
		body.Instance = "urn:slipway:request:" + id
	}
	json.NewEncoder(w).Encode(body)
	return p
}

// notFound answers paths no route serves.
func notFound(w http.ResponseWriter, r *http.Request) error {
	return &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "Not found",
		Detail: fmt.Sprintf("no endpoint serves %s %q; docs/server.md lists the endpoints", r.Method, r.URL.Path)}
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
