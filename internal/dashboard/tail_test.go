package dashboard

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTailPolling: the job page's tail fragment polls itself every 2 s
// while the server follows a job that has not ended, and carries no
// trigger once it has ended or when a dispatcher recorded it, which is
// what stops htmx polling (the fragment replaces itself).
func TestTailPolling(t *testing.T) {
	t.Parallel()
	d, err := New(Options{Server: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, SessionKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	code := 0
	ended := time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		job  Job
		poll bool
	}{
		{"pending", Job{Submitted: true, State: "PENDING"}, true},
		{"running", Job{Submitted: true, State: "RUNNING", Started: &ended}, true},
		{"completed", Job{Submitted: true, State: "COMPLETED", ExitCode: &code, Started: &ended, Ended: &ended}, false},
		{"failed, end time not known yet", Job{Submitted: true, State: "FAILED"}, false},
		{"recorded by a dispatcher", Job{State: ""}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.job.DispatchID = "d-0123456789abcdef"
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/ui/jobs/d-0123456789abcdef/tail", nil)
			if err := d.renderFragment(w, r, nil, "job.html", "tail", jobData{Job: c.job, Tail: "line 1\nline 2\n", Fragment: true}); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			polls := strings.Contains(body, `hx-get="/ui/jobs/d-0123456789abcdef/tail" hx-trigger="every 2s" hx-swap="outerHTML"`)
			if polls != c.poll || strings.Contains(body, "hx-trigger") != c.poll {
				t.Errorf("polls = %v, want %v:\n%s", polls, c.poll, body)
			}
			if !strings.Contains(body, "line 1\nline 2") || strings.Contains(body, "<html") {
				t.Errorf("the fragment:\n%s", body)
			}
			// The last fragment (the job has ended) replaces the page's
			// outputs section too, which polling did not refresh: its
			// "has not ended" note must not outlive the job.
			oob := strings.Contains(body, `<section id="job-outputs" hx-swap-oob="true">`)
			if oob == c.poll || strings.Contains(body, "has not ended") {
				t.Errorf("outputs out of band = %v, want %v:\n%s", oob, !c.poll, body)
			}
		})
	}
}
