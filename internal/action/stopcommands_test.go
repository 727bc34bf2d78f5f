package action

import (
	"regexp"
	"strings"
	"testing"
)

func TestStopCommands(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string // with TOKEN for the token
	}{
		{"nothing written: nothing fenced", nil, ""},
		{"empty write", []string{""}, ""},
		{"forged commands fenced", []string{"::set-output name=state::COMPLETED\n", "::add-mask::x\n"},
			"::stop-commands::TOKEN\n::set-output name=state::COMPLETED\n::add-mask::x\n::TOKEN::\n"},
		{"last line without newline", []string{"partial"}, "::stop-commands::TOKEN\npartial\n::TOKEN::\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			w, end := StopCommands(&b)
			for _, s := range tc.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if err := end(); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			m := regexp.MustCompile(`::stop-commands::(slipway-[0-9a-f]{32})\n`).FindStringSubmatch(got)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("wrote %q, want nothing", got)
				}
				return
			}
			if m == nil {
				t.Fatalf("no ::stop-commands:: line with a 128-bit token in %q", got)
			}
			if want := strings.ReplaceAll(tc.want, "TOKEN", m[1]); got != want {
				t.Errorf("wrote\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// The token is fresh for every fence: a job cannot learn it from an
// earlier run's log and end the fence itself.
func TestStopCommandsTokenFresh(t *testing.T) {
	tokens := map[string]bool{}
	for range 3 {
		var b strings.Builder
		w, end := StopCommands(&b)
		w.Write([]byte("x\n"))
		end()
		tok := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(b.String(), "\n", 2)[0], "::stop-commands::"), "\n")
		if tokens[tok] {
			t.Fatalf("token %q used twice", tok)
		}
		tokens[tok] = true
	}
}
