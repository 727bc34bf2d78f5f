package jobjson

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/internal/openapitest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// The inputs: squeue --json and GET /slurm/v0.0.38/jobs captured from the real
// Slurm 22.05.8 of the test machine (jobs that completed, exited 3, were killed
// by SIGKILL, one pending, and one killed by the OOM killer in its memory
// cgroup: OUT_OF_MEMORY, exit_code 253, Slurm's SIG_OOM), and v0.0.40–42
// answers written after the published documents (and checked against them
// below; their OUT_OF_MEMORY job as Slurm's data_parser dumps wait status
// 253: SIGNALED, signal 125, no return code).
var goldens = []struct {
	file, version string
}{
	{"squeue-22.05.json", "v0.0.38"},
	{"jobs-v0.0.38.json", "v0.0.38"},
	{"jobs-v0.0.40.json", "v0.0.40"},
	{"jobs-v0.0.41.json", "v0.0.41"},
	{"jobs-v0.0.42.json", "v0.0.42"},
}

func TestDecodeJobsGolden(t *testing.T) {
	t.Parallel()
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", g.file))
			if err != nil {
				t.Fatal(err)
			}
			if g.version == "v0.0.38" {
				openapitest.Validate(t, g.version, "jobs_response", relax38(t, data))
			} else {
				openapitest.Validate(t, g.version, "openapi_job_info_resp", data)
			}
			resp, err := DecodeJobs(data)
			if err != nil {
				t.Fatalf("DecodeJobs: %v", err)
			}
			got, _ := json.MarshalIndent(resp, "", "  ")
			got = append(got, '\n')
			golden := filepath.Join("testdata", strings.TrimSuffix(g.file, ".json")+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DecodeJobs(%s) differs from %s:\n%s", g.file, golden, got)
			}
		})
	}
}

// The facts the goldens must show, stated once more so that an -update cannot
// bless a wrong decoding silently.
// relax38 undoes the two ways in which the real slurmrestd 22.05.8 (and squeue
// --json) departs from its own v0.0.38 document: unset numbers and strings
// are null where the document says integer or string (without nullable),
// and meta's version numbers are JSON numbers where it says string. The rest
// of the answer must match the document.
func relax38(t testing.TB, data []byte) []byte {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	dropNulls(v)
	if m, ok := v["meta"].(map[string]any); ok {
		if s, ok := m["Slurm"].(map[string]any); ok {
			if ver, ok := s["version"].(map[string]any); ok {
				for k, n := range ver {
					if f, ok := n.(float64); ok {
						ver[k] = fmt.Sprint(f)
					}
				}
			}
		}
	}
	out, _ := json.Marshal(v)
	return out
}

func dropNulls(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if c == nil {
				delete(v, k)
			} else {
				dropNulls(c)
			}
		}
	case []any:
		for _, c := range v {
			dropNulls(c)
		}
	}
}

func TestDecodeJobsFacts(t *testing.T) {
	t.Parallel()
	type fact struct {
		state    slurm.State
		exit     int
		signal   int
		expanded string
	}
	live := map[uint32]fact{
		22:   {slurm.Completed, 0, 0, "/var/lib/slipway-slurm/shared/slurm-explore/22.out"},
		24:   {slurm.Failed, 3, 0, "/var/lib/slipway-slurm/shared/slurm-explore/24.out"},
		25:   {slurm.Failed, -1, 9, ""},
		26:   {slurm.Pending, -1, 0, ""},
		1979: {slurm.OutOfMemory, -1, slurm.SigOOM, "/var/lib/slipway-slurm/shared/slurm-explore/oom-1979.out"},
	}
	published := map[uint32]fact{
		101: {slurm.Completed, 0, 0, "/shared/w/slipway-r-1-101.out"},
		102: {slurm.Failed, 3, 0, ""},
		103: {slurm.Cancelled, -1, 9, ""},
		104: {slurm.Pending, -1, 0, ""},
		105: {slurm.Completing, 0, 0, ""},
		106: {slurm.Timeout, -1, 15, ""},
		107: {slurm.OutOfMemory, -1, slurm.SigOOM, ""},
	}
	for _, g := range goldens {
		data, err := os.ReadFile(filepath.Join("testdata", g.file))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := DecodeJobs(data)
		if err != nil {
			t.Fatal(err)
		}
		facts := published
		if strings.Contains(g.file, "22.05") || g.version == "v0.0.38" {
			facts = live
		}
		if len(resp.Jobs) != len(facts) {
			t.Errorf("%s: %d jobs, want %d", g.file, len(resp.Jobs), len(facts))
		}
		for _, j := range resp.Jobs {
			f := facts[j.ID]
			if j.State != f.state || j.ExitCode != f.exit || j.Signal != f.signal {
				t.Errorf("%s: job %d: state %q exit %d signal %d, want %q %d %d", g.file, j.ID, j.State, j.ExitCode, j.Signal, f.state, f.exit, f.signal)
			}
			if f.expanded != "" && j.Stdout != f.expanded {
				t.Errorf("%s: job %d: stdout %q, want %q", g.file, j.ID, j.Stdout, f.expanded)
			}
			if j.Submit.IsZero() || j.UserName == "" {
				t.Errorf("%s: job %d: submit time or user missing: %+v", g.file, j.ID, j)
			}
		}
		if resp.Meta.Release() == "" {
			t.Errorf("%s: no Slurm release in meta", g.file)
		}
	}
}

func TestDecodeJobsRefuses(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"not json":       `{"jobs": [`,
		"job id string":  `{"jobs": [{"job_id": "x"}]}`,
		"job id zero":    `{"jobs": [{"job_id": 0}]}`,
		"job id huge":    `{"jobs": [{"job_id": 4294967296}]}`,
		"state number":   `{"jobs": [{"job_id": 1, "job_state": 3}]}`,
		"time string":    `{"jobs": [{"job_id": 1, "submit_time": "now"}]}`,
		"exit code list": `{"jobs": [{"job_id": 1, "job_state": "FAILED", "exit_code": [1]}]}`,
	} {
		if _, err := DecodeJobs([]byte(in)); err == nil {
			t.Errorf("%s: DecodeJobs(%s) accepted it", name, in)
		}
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	e := Error{Error: "Invalid job id specified", Number: 2017, Description: "unable to kill JobId=9", Source: "slurm_kill_job"}
	if got, want := e.String(), "Invalid job id specified (2017, slurm_kill_job: unable to kill JobId=9)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if (Error{Error: "environment must be set", Code: 2127}).Num() != 2127 {
		t.Error("error_code is not read as the number")
	}
}

func FuzzDecodeJobs(f *testing.F) {
	for _, g := range goldens {
		data, err := os.ReadFile(filepath.Join("testdata", g.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"jobs":[{"job_id":{"set":true,"number":5},"job_state":["RUNNING","COMPLETING"],"exit_code":{"status":["SIGNALED"],"signal":{"signal_id":9}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := DecodeJobs(data)
		if err != nil {
			return
		}
		for _, j := range resp.Jobs {
			if j.ID == 0 || j.ExitCode < -1 || j.ExitCode > 255 || j.Signal < 0 || j.Signal > 127 {
				t.Fatalf("decoded an impossible job: %+v", j)
			}
		}
	})
}
