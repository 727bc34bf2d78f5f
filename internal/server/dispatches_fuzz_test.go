package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/tlog/entry"
)

// FuzzDispatchBodies: any body of a dispatch record or request either
// parses into fields the log entry accepts, or is a 400 problem naming
// what to fix; never a panic. Time limits parse to a positive duration or
// an error.
func FuzzDispatchBodies(f *testing.F) {
	f.Add([]byte(`{"jobId":"4711","runId":"slipway:v1:run=1.1:job=j:release=r-1:spec=00","cluster":"c","partition":"debug","builderId":"https://x",` +
		`"authorizationId":"a-0123456789abcdef","fingerprint":"` + strings.Repeat("b", 64) + `"}`))
	f.Add([]byte(`{"jobId":"0","runId":"a b"}`))
	f.Add([]byte(`{"jobId":"1","runId":"r"}{}`))
	f.Add([]byte(`"timeLimit"`))
	f.Add([]byte(`90`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/releases/r-0/dispatches", strings.NewReader(string(body)))
		req, err := parseRecord(httptest.NewRecorder(), r)
		if err != nil {
			if p, ok := err.(*Problem); !ok || p.Status != http.StatusBadRequest || p.Detail == "" {
				t.Fatalf("parseRecord error %v, want a 400 problem", err)
			}
		} else {
			e := entry.Entry{Kind: entry.KindDispatchRecorded, Decision: entry.DecisionRecorded, Release: "r-1", Uploader: "token:x/y",
				Time: time.Now().UTC(), Artifacts: []entry.Subject{{Name: "a", SHA256: strings.Repeat("a", 64)}},
				Dispatch: &entry.Dispatch{ID: dispatchID("r-1", req.RunID, req.JobID), JobID: req.JobID, RunID: req.RunID,
					Cluster: req.Cluster, Partition: req.Partition, BuilderID: req.BuilderID, Authorization: req.AuthorizationID, Fingerprint: req.Fingerprint}}
			if _, err := entry.Marshal(e); err != nil && !strings.Contains(err.Error(), "credential") {
				t.Fatalf("a record parseRecord accepted is refused by the log: %v", err)
			}
		}
		if d, err := parseTimeLimit(body); err == nil && d < 0 {
			t.Fatalf("parseTimeLimit(%q) = %v", body, d)
		}
	})
}
