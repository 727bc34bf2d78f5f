package cli

import (
	"errors"
	"testing"
)

func TestIsActionImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		self      string
		selfErr   error
		pid1      string
		pid1Err   error
		wantImage bool
	}{
		{name: "the Docker action: /slipway is PID 1", self: "/slipway", pid1: "/slipway", wantImage: true},
		{name: "actions/setup's copy on the runner", self: "/home/runner/work/_temp/slipway/bin/slipway", pid1: "/sbin/init"},
		{name: "/slipway under an init process", self: "/slipway", pid1: "/usr/bin/catatonit"},
		{name: "PID 1 not readable", self: "/slipway", pid1Err: errors.New("permission denied")},
		{name: "executable unknown", selfErr: errors.New("no /proc"), pid1: "/slipway"},
		{name: "a laptop", self: "/usr/local/bin/slipway", pid1: "/lib/systemd/systemd"},
	}
	for _, tc := range tests {
		got := isActionImage(func() (string, error) { return tc.self, tc.selfErr }, func(string) (string, error) { return tc.pid1, tc.pid1Err })
		if got != tc.wantImage {
			t.Errorf("%s: isActionImage() = %v, want %v", tc.name, got, tc.wantImage)
		}
	}
}
