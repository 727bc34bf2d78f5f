package problem

import (
	"encoding/json"
	"strings"
	"unicode"
)

// TypePrefix starts the type of every problem slipway serve answers.
const TypePrefix = "urn:slipway:problem:"

// maxText bounds the text kept of a body that is not JSON.
const maxText = 300

// Details is what the server said when it refused a request: an RFC 9457
// problem (the /api/v1 endpoints) or the OCI error JSON (/v2).
type Details struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Check     string `json:"check"`
	Subject   string `json:"subject"`
	Receipt   string `json:"receipt"`
	RequestID string `json:"request_id"`
	// Errors are the OCI errors of a /v2 answer.
	Errors []OCIError `json:"errors"`
}

// OCIError is one entry of the OCI distribution spec's error JSON.
type OCIError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

// ShortType is the problem's type without TypePrefix ("check-failed").
func (d Details) ShortType() string { return strings.TrimPrefix(d.Type, TypePrefix) }

// Parse interprets an error answer's body: problem+json or OCI error JSON
// into Details, their text members cleaned; anything else is returned as
// text, cleaned and cut to a few hundred characters.
func Parse(body []byte) (Details, string) {
	var d Details
	if err := json.Unmarshal(body, &d); err != nil {
		text := Clean(string(body))
		if len(text) > maxText {
			text = strings.ToValidUTF8(text[:maxText], "") + "…"
		}
		return Details{}, text
	}
	for _, s := range []*string{&d.Type, &d.Title, &d.Detail, &d.Check, &d.Subject, &d.RequestID} {
		*s = Clean(*s)
	}
	for i := range d.Errors {
		d.Errors[i].Code, d.Errors[i].Message = Clean(d.Errors[i].Code), Clean(d.Errors[i].Message)
	}
	return d, ""
}

// Clean replaces control characters (a server's text must not forge log
// lines or workflow commands) with spaces, and invalid UTF-8 with "?".
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}
