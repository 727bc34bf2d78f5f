package tlog

import (
	"strings"
	"testing"
)

func TestOriginFromURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, err string }{
		{in: "https://slipway.example/", want: "slipway.example/log"},
		{in: "https://slipway.example", want: "slipway.example/log"},
		{in: "https://slipway.example:8443/mcp/", want: "slipway.example:8443/mcp/log"},
		{in: "https://slipway.example/a/../b", want: "slipway.example/b/log"},
		{in: "slipway.example", err: "not an absolute URL"},
		{in: "://", err: "not an absolute URL"},
	} {
		got, err := OriginFromURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("OriginFromURL(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("OriginFromURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]string{"/d/log.key": "/d/log.pub", "/d/key": "/d/key.pub"} {
		if got := VerifierFile(in); got != want {
			t.Errorf("VerifierFile(%q) = %q, want %q", in, got, want)
		}
	}
}
