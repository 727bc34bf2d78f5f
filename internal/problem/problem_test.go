package problem

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       Details
		text       string
	}{
		{"problem", `{"type":"urn:slipway:problem:check-failed","title":"Release refused","status":422,"check":"signature","subject":"dist/app","detail":"sign it","request_id":"r1","receipt":"line 1\nline 2\n"}`,
			Details{Type: "urn:slipway:problem:check-failed", Title: "Release refused", Status: 422, Check: "signature", Subject: "dist/app", Detail: "sign it", RequestID: "r1", Receipt: "line 1\nline 2\n"}, ""},
		{"oci", `{"errors":[{"code":"DIGEST_INVALID","message":"no\nmatch"}]}`,
			Details{Errors: []OCIError{{Code: "DIGEST_INVALID", Message: "no match"}}}, ""},
		{"forged lines", "{\"check\":\"x\\n::error::forged\",\"detail\":\"a\\r\\nb\\u001b[31m\"}",
			Details{Check: "x ::error::forged", Detail: "a  b [31m"}, ""},
		{"text", "<html>\nbad gateway\n</html>", Details{}, "<html> bad gateway </html>"},
		{"binary", "\x00\x01refused\xff", Details{}, "  refused?"},
		{"long text", strings.Repeat("é", 400), Details{}, strings.Repeat("é", 150) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, text := Parse([]byte(tc.body))
			if text != tc.text {
				t.Errorf("text %q, want %q", text, tc.text)
			}
			if got.Type != tc.want.Type || got.Title != tc.want.Title || got.Status != tc.want.Status || got.Check != tc.want.Check ||
				got.Subject != tc.want.Subject || got.Detail != tc.want.Detail || got.RequestID != tc.want.RequestID || got.Receipt != tc.want.Receipt {
				t.Errorf("details %+v, want %+v", got, tc.want)
			}
			if len(got.Errors) != len(tc.want.Errors) {
				t.Fatalf("errors %+v, want %+v", got.Errors, tc.want.Errors)
			}
			for i := range got.Errors {
				if got.Errors[i].Code != tc.want.Errors[i].Code || got.Errors[i].Message != tc.want.Errors[i].Message {
					t.Errorf("error %d: %+v, want %+v", i, got.Errors[i], tc.want.Errors[i])
				}
			}
		})
	}
	if got := (Details{Type: TypePrefix + "check-failed"}).ShortType(); got != "check-failed" {
		t.Errorf("ShortType = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"type":"urn:slipway:problem:check-failed","check":"signature","detail":"fix it"}`))
	f.Add([]byte(`{"errors":[{"code":"DIGEST_INVALID","message":"m","detail":{"a":1}}]}`))
	f.Add([]byte("<html>bad gateway</html>"))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, text := Parse(body)
		fields := []string{text, d.Type, d.Title, d.Detail, d.Check, d.Subject, d.RequestID}
		for _, e := range d.Errors {
			fields = append(fields, e.Code, e.Message)
		}
		for _, s := range fields {
			if strings.ContainsAny(s, "\n\r\x00\x1b\u0085") {
				t.Fatalf("a field holds a control character: %q", s)
			}
		}
		if len(text) > maxText+len("…") {
			t.Fatalf("text of %d bytes", len(text))
		}
	})
}
