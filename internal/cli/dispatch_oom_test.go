package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDispatchOutOfMemory dispatches, through each backend, a job whose
// command touches more memory than its --mem: the cluster's memory cgroup
// (task/cgroup, ConstrainRAMSpace) kills it and Slurm ends it OUT_OF_MEMORY
// with its SIG_OOM marker (ExitCode 0:125). The step fails with
// state=OUT_OF_MEMORY and exit-code=253 (128 + 125, as for any signal), says
// to ask for more --mem, and the output the job left is attested with that
// end: its provenance records state OUT_OF_MEMORY and exit code 253, verify
// refuses it naming both and accepts it with --allow-failed-jobs.
func TestDispatchOutOfMemory(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	for _, backend := range []string{"cli", "rest"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			work := filepath.Join(s.cluster.Shared, backend+"-oom")
			// dd's 600 MB buffer is far over the job's 256M (the dispatch
			// helper's --mem; exec-verified needs ~110 MB before it execs).
			code, out, text := s.dispatch(t, backend, work,
				"--command", "/bin/sh -c 'echo before > out.txt && exec dd if=/dev/zero of=/dev/null bs=600M count=1'", "--outputs", "out.txt")
			if code != 1 || out["state"] != "OUT_OF_MEMORY" || out["exit-code"] != "253" || out["job-id"] == "" || out["output-provenance"] == "" {
				t.Fatalf("a job over its --mem: exit %d, state %q, exit-code %q, provenance %q; want 1, OUT_OF_MEMORY, 253 and its output attested\n%s",
					code, out["state"], out["exit-code"], out["output-provenance"], text)
			}
			for _, want := range []string{"ran out of memory (OutOfMemory); ask for more --mem", "oom-kill"} {
				if !strings.Contains(text, want) {
					t.Errorf("the step does not say %q:\n%s", want, text)
				}
			}
			internal := provenanceInternal(t, out["output-provenance"])
			if internal["state"] != "OUT_OF_MEMORY" || internal["exitCode"] != float64(253) {
				t.Errorf("provenance internalParameters state %v exitCode %v, want OUT_OF_MEMORY 253", internal["state"], internal["exitCode"])
			}
			rel, _ := filepath.Rel(work, out["outputs-manifest"])
			staged := filepath.Join(".slipway", "release-"+s.id, "manifest.json")
			vargs := []string{"verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", staged}
			if vcode, vout, verr := runCLI(t, work, nil, vargs...); vcode == 0 || !strings.Contains(vout+verr, "ended OUT_OF_MEMORY with exit code 253") {
				t.Errorf("verify of an out-of-memory job's output: exit %d, want it refused naming OUT_OF_MEMORY and 253\n%s\n%s", vcode, vout, verr)
			}
			if vcode, vout, verr := runCLI(t, work, nil, append(vargs, "--allow-failed-jobs")...); vcode != 0 {
				t.Errorf("verify --allow-failed-jobs of an out-of-memory job's output: exit %d\n%s\n%s", vcode, vout, verr)
			}
		})
	}
}

// provenanceInternal reads the internalParameters of the SLSA provenance in
// the signed bundle at path (DSSE payload, not verified here: verify does).
func provenanceInternal(t *testing.T, path string) map[string]any {
	t.Helper()
	var bundle struct {
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	payload, err := base64.StdEncoding.DecodeString(bundle.DSSEEnvelope.Payload)
	if err != nil {
		t.Fatalf("%s: payload: %v", path, err)
	}
	var st struct {
		Predicate struct {
			BuildDefinition struct {
				InternalParameters map[string]any `json:"internalParameters"`
			} `json:"buildDefinition"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("%s: statement: %v", path, err)
	}
	return st.Predicate.BuildDefinition.InternalParameters
}
