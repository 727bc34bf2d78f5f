package upload

import (
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

func TestServerErrorMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   exitcode.Code
		want   []string
	}{
		{"failed check", 422, `{"type":"urn:slipway:problem:check-failed","title":"Release refused","status":422,"check":"signature","subject":"dist/app","detail":"no signature verifies under the policy's keys; sign with a key the policy lists","request_id":"req-1"}`,
			exitcode.Failed, []string{`check "signature" failed for "dist/app"`, "sign with a key the policy lists", `request id "req-1"`}},
		{"missing blob", 409, `{"type":"urn:slipway:problem:missing-blob","title":"Missing blob","status":409,"detail":"record \"dist/app\": blob sha256:ab is not uploaded; upload it first"}`,
			exitcode.Failed, []string{"409 Conflict (Missing blob)", "upload it first"}},
		{"digest mismatch", 400, `{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}`,
			exitcode.Failed, []string{"DIGEST_INVALID: provided digest did not match"}},
		{"bad manifest", 400, `{"type":"urn:slipway:problem:bad-manifest","title":"Bad manifest","status":400,"detail":"field \"mediaType\" is wrong; upload a manifest written by slipway build"}`,
			exitcode.Usage, []string{"(Bad manifest)", "written by slipway build"}},
		{"no token", 401, `{"type":"urn:slipway:problem:unauthorized","title":"Authentication required","status":401,"detail":"this endpoint needs a token"}`,
			exitcode.Usage, []string{"401 Unauthorized", "SLIPWAY_TOKEN"}},
		{"no scope", 403, `{"type":"urn:slipway:problem:forbidden","title":"Missing scope","status":403,"detail":"token \"ci\" has no scope \"upload\""}`,
			exitcode.Usage, []string{"403 Forbidden", "--scope upload"}},
		{"too large", 413, `{"errors":[{"code":"SIZE_INVALID","message":"blob over the limit of 8 GiB (--max-blob-size)"}]}`,
			exitcode.Usage, []string{"413", "8 GiB (--max-blob-size)"}},
		{"rate limited", 429, `{"type":"urn:slipway:problem:rate-limited","title":"Too many requests","status":429}`,
			exitcode.Internal, []string{"429", "try again later"}},
		{"proxy text", 502, "<html>\nbad gateway\n</html>",
			exitcode.Internal, []string{"502 Bad Gateway: <html> bad gateway </html>", "try again later"}},
		{"internal", 500, `{"type":"urn:slipway:problem:internal","title":"Internal server error","status":500}`,
			exitcode.Internal, []string{"500", "the server's log has the cause"}},
		{"forged lines", 422, "{\"check\":\"x\\n::error::forged\",\"detail\":\"a\\r\\nb\"}",
			exitcode.Failed, []string{`check "x ::error::forged" failed`, "a  b"}},
		{"not json", 422, "\x00\x01refused",
			exitcode.Failed, []string{"refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := parseProblem("admitting the release", tc.status, []byte(tc.body))
			if e.Code() != tc.code {
				t.Errorf("code %d, want %d", e.Code(), tc.code)
			}
			msg := e.Error()
			if !strings.HasPrefix(msg, "admitting the release: ") || strings.ContainsAny(msg, "\n\r\x00") {
				t.Errorf("message %q: want it to name the operation, on one line", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		last int64
		ok   bool
	}{
		{"0-0", 0, true}, {"0-65535", 65535, true}, {"bytes=0-9", 9, true}, {" 0-1 ", 1, true},
		{"", 0, false}, {"1-5", 0, false}, {"0-", 0, false}, {"0--1", 0, false}, {"0-1x", 0, false},
		{"0-99999999999999999999", 0, false}, {"0-9223372036854775807", 9223372036854775807, true},
	} {
		last, err := parseRange(tc.in)
		if (err == nil) != tc.ok || last != tc.last {
			t.Errorf("parseRange(%q) = %d, %v; want %d, ok=%v", tc.in, last, err, tc.last, tc.ok)
		}
	}
}

func FuzzParseProblem(f *testing.F) {
	f.Add(422, []byte(`{"type":"urn:slipway:problem:check-failed","check":"signature","subject":"dist/app","detail":"fix it"}`))
	f.Add(400, []byte(`{"errors":[{"code":"DIGEST_INVALID","message":"m","detail":{"a":1}}]}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(500, []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseProblem("op", status, body)
		msg := e.Error()
		if strings.ContainsAny(msg, "\n\r\x00\x1b") {
			t.Fatalf("message holds a control character: %q", msg)
		}
		_ = e.Code()
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"0-0", "0-65535", "bytes=0-9", "0--1", "1-2", "0-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		last, err := parseRange(h)
		if err == nil && last < 0 {
			t.Fatalf("parseRange(%q) = %d", h, last)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error holds a line break: %q", err)
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte(`{"releaseId":"r-0123456789abcdef","logIndex":0,"receipt":"","artifacts":[{"name":"dist/app","digest":"sha256:00"}]}`))
	f.Add([]byte(`{"releaseId":"../../etc/passwd","logIndex":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rel, err := parseRelease(body)
		if err != nil {
			return
		}
		if !releaseID.MatchString(rel.ID) || strings.ContainsAny(rel.ID, "/\\") || rel.ID == ".." {
			t.Fatalf("release id %q accepted: it names a file", rel.ID)
		}
	})
}
