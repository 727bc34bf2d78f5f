package ghreport_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/ghreport"
)

// TestParseVerifyReportRefuses: each bad report is one error naming the
// file and what is wrong.
func TestParseVerifyReportRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{``, "not a slipway verify JSON report"},
		{`{"verified": false`, "not a slipway verify JSON report"},
		{`{"verified": "no"}`, `field "verified"`},
		{`{"verified": false}`, `field "subjects" is missing`},
		{`{"subjects": [null]}`, "subjects[0] is null"},
		{`{"subjects": [{"checks": [{"check": "", "status": "fail"}]}]}`, "subjects[0].checks[0].check is empty"},
		{`{"subjects": [{"checks": [{"check": "digest", "status": "maybe"}]}]}`, `subjects[0].checks[0].status is "maybe"`},
		{`{"subjects": []} {}`, "more than one JSON value"},
	} {
		_, err := ghreport.ParseVerifyReport("r.json", []byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "r.json: ") {
			t.Errorf("%s: err = %v, want r.json: …%s…", tt.in, err, tt.want)
		}
	}
}

// FuzzParseVerifyReport: any input is a report or an error naming the
// file, never a panic; an accepted report with a failed check gives a
// failure with a check name, and its issue body starts with the marker.
func FuzzParseVerifyReport(f *testing.F) {
	seed, err := os.ReadFile("testdata/verify-failed.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"subjects":[]}`))
	f.Add([]byte(`{"subjects":[{"checks":[{"check":"x","status":"error","message":"` + "```" + `"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ghreport.ParseVerifyReport("r.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "r.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		fl := ghreport.FromReport(r)
		if fl == nil {
			return
		}
		if fl.Check == "" {
			t.Fatal("a failure without a check")
		}
		e := ghreport.Event{Repository: "o/r", Stage: "verify", Status: ghreport.Failure, Failure: fl}
		body := ghreport.IssueBody(e)
		if !strings.HasPrefix(body, "<!-- slipway-report v1 fingerprint="+e.Fingerprint()) {
			t.Fatalf("body does not start with its marker: %q", body[:min(len(body), 100)])
		}
		if len(body) > 65536 {
			t.Fatalf("body of %d characters is over GitHub's limit", len(body))
		}
	})
}

// FuzzMask: a secret of at least four characters never survives masking,
// wherever it sits in the text.
func FuzzMask(f *testing.F) {
	f.Add("password is hunter22 ok", "hunter22")
	f.Add("line1\nkey=abc\ndef", "abc\ndef")
	f.Add("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "zzzz")
	f.Fuzz(func(t *testing.T, text, secret string) {
		got := ghreport.NewMasker(secret).Mask(text)
		for _, line := range strings.Split(secret, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 4 && !strings.Contains(ghreport.Masked, line) && strings.Contains(got, line) {
				t.Fatalf("secret line %q survives in %q", line, got)
			}
		}
	})
}

// FuzzLogTail: any log gives a bounded, valid UTF-8 excerpt.
func FuzzLogTail(f *testing.F) {
	log, err := os.ReadFile("testdata/build.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(log)
	f.Add(bytes.Repeat([]byte("x\r\n"), 1000))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/log"
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ghreport.ReadLogTail(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 4*ghreport.MaxLogBytes || strings.Count(got, "\n") >= ghreport.MaxLogLines {
			t.Fatalf("excerpt of %d bytes, %d lines", len(got), strings.Count(got, "\n")+1)
		}
	})
}
