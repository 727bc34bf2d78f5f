package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestUnreachable(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v2/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", refused, true},
		{"wrapped refusal", fmt.Errorf("reading image: %w", refused), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"cut short", fmt.Errorf("cannot be read: %w", io.ErrUnexpectedEOF), true},
		{"server error", &transport.Error{StatusCode: http.StatusBadGateway}, true},
		{"rate limited", &transport.Error{StatusCode: http.StatusTooManyRequests}, true},
		{"not found", &transport.Error{StatusCode: http.StatusNotFound}, false},
		{"unauthorized", fmt.Errorf("x: %w", &transport.Error{StatusCode: http.StatusUnauthorized}), false},
		{"bad content", errors.New("invalid character 'x' looking for beginning of value"), false},
	}
	for _, tt := range tests {
		if got := unreachable(tt.err); got != tt.want {
			t.Errorf("%s: unreachable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestReportUnverifiable(t *testing.T) {
	tests := []struct {
		name     string
		statuses []Status
		want     bool
	}{
		{"all pass", []Status{Pass, Pass}, false},
		{"only errors", []Status{Pass, Error}, true},
		{"a failure among errors", []Status{Error, Fail}, false},
	}
	for _, tt := range tests {
		s := &SubjectReport{Name: "app"}
		for _, st := range tt.statuses {
			s.add(Check{Check: CheckBundle, Status: st})
		}
		r := &Report{}
		r.Add(s)
		if got := r.Unverifiable(); got != tt.want {
			t.Errorf("%s: Unverifiable() = %v, want %v", tt.name, got, tt.want)
		}
		if tt.want && r.Verified {
			t.Errorf("%s: a report with errors is Verified", tt.name)
		}
	}
}
