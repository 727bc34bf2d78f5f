package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/internal/openapitest"
)

// wire is an in-process server speaking the v0.0.40–42 wire after the
// published documents (those versions do not run here): it checks every
// request body against the document and answers with bodies that the
// document's schemas accept, the job list being jobjson's test data.
func wire(t *testing.T, v string) *httptest.Server {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(openapitest.Dir(), v+".json"))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := os.ReadFile(filepath.Join("..", "jobjson", "testdata", "jobs-"+v+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Meta json.RawMessage `json:"meta"`
	}
	_ = json.Unmarshal(jobs, &meta)
	answer := func(w http.ResponseWriter, status int, schema string, body map[string]any) {
		body["meta"] = meta.Meta
		data, _ := json.Marshal(body)
		openapitest.Validate(t, v, schema, data)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(data)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi/v3", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(doc) })
	mux.HandleFunc("POST /slurm/"+v+"/job/submit", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := openapitest.Check(v, "job_submit_req", body, true); err != nil {
			t.Errorf("submission body: %v", err)
			answer(w, 400, "openapi_job_submit_response", map[string]any{"errors": []any{map[string]any{"error": "bad body", "error_number": 9001}}})
			return
		}
		var req struct {
			Job struct {
				Partition   string   `json:"partition"`
				Environment []string `json:"environment"`
			} `json:"job"`
		}
		_ = json.Unmarshal(body, &req)
		if req.Job.Partition == "nope" {
			answer(w, 500, "openapi_job_submit_response", map[string]any{"errors": []any{map[string]any{"error": "Invalid partition name specified", "error_number": 2000, "source": "slurm_submit_batch_job()"}}})
			return
		}
		if strings.Join(req.Job.Environment, " ") != "PATH=/usr/bin:/bin SECRET=s" {
			t.Errorf("environment %q, want the spec's Env", req.Job.Environment)
		}
		answer(w, 200, "openapi_job_submit_response", map[string]any{"job_id": 4242, "step_id": "batch", "job_submit_user_msg": "", "errors": []any{}, "warnings": []any{}})
	})
	mux.HandleFunc("GET /slurm/"+v+"/jobs/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jobs) })
	mux.HandleFunc("DELETE /slurm/"+v+"/job/{id}", func(w http.ResponseWriter, r *http.Request) {
		schema := "openapi_resp"
		if v == "v0.0.42" {
			schema = "openapi_kill_job_resp"
		}
		status := map[string]any{"errors": []any{}}
		if v == "v0.0.42" {
			status["status"] = []any{}
		}
		switch r.PathValue("id") {
		case "101": // slurmrestd answers an already ended job as a success with a warning
			status["warnings"] = []any{map[string]any{"description": "Job was already sent signal Killed", "source": "_signal_job"}}
			answer(w, 200, schema, status)
		case "104":
			answer(w, 200, schema, status)
		case "105", "106":
			// v0.0.42's per-job status[]: not checked against the document, whose
			// kill_jobs_resp_job requires properties literally named "error/string",
			// "federation/sibling", … (a flaw of the generated document).
			code := map[string]int{"105": 2017, "106": 2002}[r.PathValue("id")]
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{}, "status": []any{map[string]any{
				"error": map[string]any{"string": "x", "code": code, "message": "signal failed"}, "step_id": "105",
				"job_id": map[string]any{"set": true, "number": 105}, "federation": map[string]any{"sibling": ""}}}})
		default:
			status["errors"] = []any{map[string]any{"error": "Invalid job id specified", "error_number": 2017}}
			answer(w, 500, schema, status)
		}
	})
	mux.HandleFunc("GET /slurm/"+v+"/ping/", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, "openapi_ping_array_resp", map[string]any{"pings": []any{map[string]any{"hostname": "ctl", "mode": "primary", "latency": 100, "responding": true, "primary": true}}})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-SLURM-USER-NAME") != "runner" || r.Header.Get("X-SLURM-USER-TOKEN") != "tok" {
			http.Error(w, "Authentication failure", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestWire runs every operation of the backend against the v0.0.40–42 wire,
// the version detected from the document the server serves.
func TestWire(t *testing.T) {
	t.Parallel()
	for _, v := range Versions[1:] {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := wire(t, v)
			b := New(Options{URL: srv.URL, User: "runner", Token: static("tok")})
			spec := fullSpec()
			id, err := b.Submit(t.Context(), spec)
			if err != nil || id != 4242 {
				t.Fatalf("Submit = %d, %v", id, err)
			}
			if b.currentVersion() != v {
				t.Errorf("detected %q, want %q", b.currentVersion(), v)
			}
			spec.Partition = "nope"
			if _, err := b.Submit(t.Context(), spec); err == nil || exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), "Invalid partition name specified (2000") {
				t.Errorf("a refused submission: %v", err)
			}
			jobs, err := b.Jobs(t.Context(), []uint32{101, 103, 999})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 2 || jobs[101].State != slurm.Completed || jobs[103].State != slurm.Cancelled || jobs[103].Signal != 9 {
				t.Errorf("Jobs = %+v", jobs)
			}
			found, err := b.FindByComment(t.Context(), "slipway:v1:run=1.1:job=j:release=r-1:spec=0123456789abcdef")
			if err != nil || len(found) != 1 || found[0].ID != 101 {
				t.Errorf("FindByComment = %+v, %v", found, err)
			}
			other := New(Options{URL: srv.URL, User: "someone-else", Token: static("tok"), APIVersion: v})
			if _, err := other.FindByComment(t.Context(), "x"); err == nil || !strings.Contains(err.Error(), "scontrol token username=someone-else") {
				t.Errorf("a user the server refuses: %v", err)
			}
			for _, id := range []uint32{101, 104, 999} {
				if err := b.Cancel(t.Context(), id); err != nil {
					t.Errorf("Cancel(%d): %v", id, err)
				}
			}
			if v == "v0.0.42" {
				if err := b.Cancel(t.Context(), 105); err != nil {
					t.Errorf("Cancel of a job status[] says is unknown: %v", err)
				}
				if err := b.Cancel(t.Context(), 106); err == nil || !strings.Contains(err.Error(), "2002") {
					t.Errorf("Cancel that status[] says failed: %v", err)
				}
			}
			ver, err := b.Version(t.Context())
			if err != nil || !strings.HasPrefix(ver, map[string]string{"v0.0.40": "23.11", "v0.0.41": "24.05", "v0.0.42": "24.11"}[v]) {
				t.Errorf("Version = %q, %v", ver, err)
			}
		})
	}
}

// TestRedirectNotFollowed: the token header never goes to where a redirect points.
func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-SLURM-USER-TOKEN") != "" {
			leaked.Store(true)
		}
	}))
	t.Cleanup(elsewhere.Close)
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/x", http.StatusFound))
	t.Cleanup(srv.Close)
	_, err := New(Options{URL: srv.URL, User: "u", Token: static("tok"), APIVersion: "v0.0.42"}).Jobs(t.Context(), []uint32{1})
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("Jobs through a redirect: %v", err)
	}
	if leaked.Load() {
		t.Error("the token went to the redirect's target")
	}
}

// TestDetectRefusesUnknownVersions: a slurmrestd serving only versions this
// backend does not speak is an error naming them.
func TestDetectRefusesUnknownVersions(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"paths": {"/slurm/v0.0.39/jobs/": {}, "/slurmdb/v0.0.39/jobs/": {}}}`)
	}))
	t.Cleanup(srv.Close)
	_, err := New(Options{URL: srv.URL, User: "u", Token: static("tok")}).Version(t.Context())
	if err == nil || !strings.Contains(err.Error(), "v0.0.39") || !strings.Contains(err.Error(), "-s openapi/v0.0.42") {
		t.Errorf("detecting against v0.0.39 only: %v", err)
	}
}
