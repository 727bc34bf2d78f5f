package verify

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/provenance"
)

// TestCheckJob: the outputs of a dispatched job verify by default only
// when the job completed with exit code 0; any other end fails check job
// naming the state and the way to accept it, and passes with
// WithFailedJobs; a provenance without a final state fails either way.
func TestCheckJob(t *testing.T) {
	t.Parallel()
	p := &policy.Policy{Builders: []policy.Builder{{ID: "https://hpc.example/runner"}}}
	for _, tc := range []struct {
		name       string
		internal   map[string]any
		failedJobs bool
		pass       bool
		want       string
	}{
		{"completed 0", map[string]any{"jobId": "7", "state": "COMPLETED", "exitCode": 0}, false, true, "successful run: Slurm job 7 ended COMPLETED with exit code 0"},
		{"failed 3", map[string]any{"jobId": "7", "state": "FAILED", "exitCode": 3}, false, false, "ended FAILED with exit code 3, not COMPLETED with exit code 0"},
		{"completed 1", map[string]any{"jobId": "7", "state": "COMPLETED", "exitCode": 1}, false, false, "set allow-failed-jobs"},
		{"out of memory", map[string]any{"jobId": "7", "state": "OUT_OF_MEMORY", "exitCode": 137}, false, false, "ended OUT_OF_MEMORY with exit code 137"},
		{"timeout accepted", map[string]any{"jobId": "7", "state": "TIMEOUT", "exitCode": -1}, true, true, "accepted as asked (allow-failed-jobs): Slurm job 7 ended TIMEOUT"},
		{"no state", map[string]any{"jobId": "7", "exitCode": 0}, true, false, "records no final state"},
		{"no exit code", map[string]any{"jobId": "7", "state": "COMPLETED"}, true, false, "records no final state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw, _ := json.Marshal(map[string]any{
				"buildDefinition": map[string]any{"buildType": provenance.SlurmBuildType, "internalParameters": tc.internal},
				"runDetails":      map[string]any{"builder": map[string]any{"id": "https://hpc.example/runner"}},
			})
			var opts []Option
			if tc.failedJobs {
				opts = append(opts, WithFailedJobs())
			}
			rep := &SubjectReport{Name: "job-7/out.txt"}
			passed := New(p, opts...).checkProvenance(rep, &evidence{path: "p.json"}, raw, &found{attestations: map[string]string{}})
			var job *Check
			for i := range rep.Checks {
				if rep.Checks[i].Check == CheckJob {
					job = &rep.Checks[i]
				}
			}
			if job == nil || passed != tc.pass || (job.Status == Pass) != tc.pass || !strings.Contains(job.Message, tc.want) {
				t.Fatalf("passed %v, check %+v; want pass %v and a message with %q", passed, job, tc.pass, tc.want)
			}
		})
	}
}
