package idtoken

import (
	"strings"
	"testing"
)

// FuzzParseHeader: whatever the input, parseHeader returns a header or an
// *Error of check "format" that never quotes the input, and never panics.
func FuzzParseHeader(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6InRlc3QifQ.e30.AAAA")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Add("eyJjcml0IjpbImI2NCJdfQ.e30.AA")
	f.Add("bnVsbA.e30.AA")
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2kifQ.AA")
	f.Fuzz(func(t *testing.T, raw string) {
		h, err := parseHeader(raw)
		if err != nil {
			if err.Check != CheckFormat {
				t.Fatalf("check %q, want %q", err.Check, CheckFormat)
			}
			if len(raw) > 16 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error quotes the token: %v", err)
			}
			if h.Alg != "" || h.Kid != "" || h.Crit != nil {
				t.Fatalf("a refused token has a header %+v", h)
			}
			return
		}
		if strings.Count(raw, ".") != 2 || len(raw) > MaxTokenSize || len(h.Crit) > 0 {
			t.Fatalf("accepted %q", raw)
		}
		iss, err := unverifiedIssuer(raw)
		if err != nil && (err.Check != CheckFormat || iss != "") || err == nil && iss == "" {
			t.Fatalf("unverifiedIssuer() = %q, %v", iss, err)
		}
	})
}
