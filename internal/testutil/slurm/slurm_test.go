package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSbatchJobFinishes submits a tiny batch job into the test's shared directory and waits for it to complete:
// the cluster schedules and runs jobs, and the job sees and writes the shared directory.
func TestSbatchJobFinishes(t *testing.T) {
	t.Parallel()
	c := Require(t)
	out := filepath.Join(c.Shared, "out-%j")
	cmd := exec.Command("sbatch", "--parsable", "--job-name=slurmenv-test", "--partition="+c.Partition,
		"--time=1", "--mem=16M", "--cpus-per-task=1", "--chdir="+c.Shared, "--output="+out,
		"--wrap", "echo ok > marker; true")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch: %v: %s", err, b)
	}
	id := strings.TrimSpace(string(b))
	t.Cleanup(func() { exec.Command("scancel", id).Run() })
	state := waitFinal(t, id, time.Minute)
	if state != "COMPLETED" {
		t.Fatalf("job %s ended %s, want COMPLETED", id, state)
	}
	got, err := os.ReadFile(filepath.Join(c.Shared, "marker"))
	if err != nil || string(got) != "ok\n" {
		t.Fatalf("the job's marker file in the shared directory: %q, %v; want \"ok\\n\"", got, err)
	}
	if _, err := os.Stat(strings.ReplaceAll(out, "%j", id)); err != nil {
		t.Fatalf("the job's output file (%%j expanded): %v", err)
	}
}

// waitFinal polls scontrol until job id leaves the PENDING/RUNNING/COMPLETING states and returns its state.
func waitFinal(t *testing.T, id string, limit time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, err := exec.Command("scontrol", "--oneliner", "show", "job", id).CombinedOutput()
		if err != nil {
			t.Fatalf("scontrol show job %s: %v: %s", id, err, b)
		}
		state := ""
		for _, f := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(f, "JobState="); ok {
				state = v
			}
		}
		switch state {
		case "PENDING", "CONFIGURING", "RUNNING", "COMPLETING":
		case "":
			t.Fatalf("scontrol show job %s printed no JobState: %s", id, b)
		default:
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %s", id, state, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRESTPing pings slurmctld through slurmrestd with a token from Token; without a valid token slurmrestd
// refuses: 401 without the token header, and (Slurm 22.05) 500 "slurmctld config is unable to load" with a token
// slurmctld rejects, or one for another user.
func TestRESTPing(t *testing.T) {
	t.Parallel()
	c := Require(t)
	tok := c.Token(t, time.Minute)
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"token", tok, http.StatusOK},
		{"bad-token", tok + "x", http.StatusInternalServerError},
		{"no-token", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.RESTURL+"/slurm/v0.0.38/ping", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-SLURM-USER-NAME", c.User)
			if tc.token != "" {
				req.Header.Set("X-SLURM-USER-TOKEN", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("GET /slurm/v0.0.38/ping: %s, want %d", resp.Status, tc.want)
			}
			if tc.want != http.StatusOK {
				return
			}
			var body struct {
				Pings []struct{ Ping string } `json:"pings"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decoding the ping answer: %v", err)
			}
			if len(body.Pings) == 0 || body.Pings[0].Ping != "UP" {
				t.Fatalf("ping answer %+v, want pings[0].ping UP", body.Pings)
			}
		})
	}
}

// TestSharedRemoved checks that a test's shared directory is gone once the test ends.
func TestSharedRemoved(t *testing.T) {
	t.Parallel()
	var dir string
	t.Run("use", func(t *testing.T) {
		c := Require(t)
		dir = c.Shared
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if dir == "" {
		t.Skip("the cluster is not there")
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat %s after the test: %v, want not exist", dir, err)
	}
}

func TestTakesJobs(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]bool{"idle": true, "mix": true, "alloc": true, "idle*": true, "down": false, "drain": false, "": false} {
		if got := takesJobs(state); got != want {
			t.Errorf("takesJobs(%q) = %v, want %v", state, got, want)
		}
	}
}
