package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// statusTail is what the job wrapper (internal/jobscript) does at its end:
// write the status file of API8.md atomically.
const statusTail = `rc=$?
mkdir -p .slipway
printf '{"version":1,"jobId":"%s","exitCode":%d,"verified":true}\n' "$SLURM_JOB_ID" "$rc" >".slipway/job-$SLURM_JOB_ID.status.tmp"
mv ".slipway/job-$SLURM_JOB_ID.status.tmp" ".slipway/job-$SLURM_JOB_ID.status"
exit $rc
`

// clusterJob submits a tiny job (name prefix follow-, one CPU, 32 MiB) to the
// test cluster running body in a subshell followed by the status tail, and
// cancels it when the test ends.
func clusterJob(t *testing.T, b slurm.Backend, dir, name, body string, limit time.Duration) uint32 {
	t.Helper()
	c, _ := requireCluster(t)
	if limit == 0 {
		limit = 2 * time.Minute
	}
	spec := slurm.JobSpec{
		Name: "follow-" + name, Partition: c.Partition, TimeLimit: limit, NTasks: 1, CPUsPerTask: 1, Mem: "32M",
		WorkDir: dir, Stdout: dir + "/%x-%j.out", Stderr: dir + "/%x-%j.err",
		Env:    map[string]string{"PATH": "/usr/bin:/bin"},
		Script: []byte("#!/bin/sh\n(\n" + body + "\n)\n" + statusTail),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := b.Submit(ctx, spec)
	if err != nil {
		t.Fatalf("submitting %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b.Cancel(ctx, id)
	})
	return id
}

func clusterLogs(dir, name string) LogFiles {
	return LogFiles{Stdout: dir + "/%x-%j.out", Stderr: dir + "/%x-%j.err", Name: "follow-" + name, WorkDir: dir}
}

// lockedBuffer records what Follow streamed and when the first bytes came.
type lockedBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	first time.Time
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first.IsZero() {
		l.first = time.Now()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClusterSuccessStreams runs a job that prints over about 1.5 s: its
// lines arrive while it runs, in order, stdout and stderr both, and it ends
// COMPLETED with exit code 0.
func TestClusterSuccessStreams(t *testing.T) {
	t.Parallel()
	c, b := requireCluster(t)
	id := clusterJob(t, b, c.Shared, "stream", `for i in 1 2 3 4 5; do echo "line $i"; sleep 0.3; done; echo "to stderr" >&2; printf 'no newline'`, 0)
	var out lockedBuffer
	job, err := New(b, Options{}).Follow(context.Background(), id, clusterLogs(c.Shared, "stream"), &out)
	end := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	r := ResultOf(job)
	if !r.Success() || r.Err() != nil {
		t.Fatalf("result %+v: %v", r, r.Err())
	}
	got := out.String()
	for i, want := range []string{"line 1\n", "line 2\n", "line 3\n", "line 4\n", "line 5\n", "to stderr\n", "no newline\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("streamed %q lacks %q (%d)", got, want, i)
		}
	}
	if strings.Index(got, "line 1") > strings.Index(got, "line 5") {
		t.Errorf("lines out of order: %q", got)
	}
	if d := end.Sub(out.first); d < 500*time.Millisecond {
		t.Errorf("the first line arrived %s before the end: it was not streamed while the job ran", d)
	}
}

func TestClusterFailingExitCode(t *testing.T) {
	t.Parallel()
	eachBackend(t, testFailingExitCode)
}

func testFailingExitCode(t *testing.T, c *slurmtest.Cluster, b slurm.Backend) {
	id := clusterJob(t, b, c.Shared, "fail", `echo failing; exit 3`, 0)
	var out lockedBuffer
	job, err := New(b, Options{}).Follow(context.Background(), id, clusterLogs(c.Shared, "fail"), &out)
	if err != nil {
		t.Fatal(err)
	}
	r := ResultOf(job)
	if r.State != slurm.Failed || r.ExitCode != 3 {
		t.Fatalf("result %+v, want FAILED with exit code 3", r)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "exit code 3") {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(out.String(), "failing\n") {
		t.Errorf("streamed %q", out.String())
	}
}

// TestClusterCancel cancels Follow's context (what SIGINT/SIGTERM does
// through internal/interrupt) while the job runs: the job is cancelled in
// Slurm and Follow says so.
func TestClusterCancel(t *testing.T) {
	t.Parallel()
	eachBackend(t, testCancel)
}

func testCancel(t *testing.T, c *slurmtest.Cluster, b slurm.Backend) {
	id := clusterJob(t, b, c.Shared, "cancel", `echo started; sleep 120`, 0)
	ctx, cancel := context.WithCancelCause(context.Background())
	running := make(chan struct{})
	var once sync.Once
	f := New(b, Options{OnChange: func(j slurm.Job) {
		if j.ID == id && j.State == slurm.Running {
			once.Do(func() { close(running) })
		}
	}})
	go func() {
		select {
		case <-running:
			time.Sleep(300 * time.Millisecond)
		case <-time.After(90 * time.Second):
		}
		cancel(errors.New("interrupted by SIGTERM"))
	}()
	var out lockedBuffer
	job, err := f.Follow(ctx, id, clusterLogs(c.Shared, "cancel"), &out)
	var ce *CancelledError
	if !errors.As(err, &ce) || err.Error() != fmt.Sprintf("cancelled job %d (interrupted by SIGTERM)", id) {
		t.Fatalf("err = %v", err)
	}
	if job.State != slurm.Cancelled {
		t.Errorf("state %s, want CANCELLED", job.State)
	}
	got, err := b.Jobs(context.Background(), []uint32{id})
	if err != nil || got[id].State != slurm.Cancelled {
		t.Errorf("slurm says %+v (%v), want CANCELLED", got[id], err)
	}
}

// TestClusterReattach follows a job from a second Follower (a dispatcher
// restarted mid-job) and then, once it has ended, from a third: both get the
// same final job, and the re-attached ones stream the log from its start.
func TestClusterReattach(t *testing.T) {
	t.Parallel()
	c, b := requireCluster(t)
	id := clusterJob(t, b, c.Shared, "reattach", `echo before; sleep 1; echo after; exit 4`, 0)
	// The first dispatcher saw the job start and was killed (SIGKILL cancels nothing): wait for RUNNING.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := b.Jobs(context.Background(), []uint32{id})
		if j, ok := got[id]; err == nil && ok && (j.State == slurm.Running || j.State.Final()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d did not start within 90 s", id)
		}
	}
	var out lockedBuffer
	job, err := New(b, Options{}).Follow(context.Background(), id, clusterLogs(c.Shared, "reattach"), &out)
	if err != nil || job.State != slurm.Failed || job.ExitCode != 4 {
		t.Fatalf("re-attached mid-job: %+v, %v", job, err)
	}
	if got := out.String(); !strings.Contains(got, "before\n") || !strings.Contains(got, "after\n") {
		t.Errorf("streamed %q", got)
	}
	var again lockedBuffer
	job2, err := New(b, Options{}).Follow(context.Background(), id, clusterLogs(c.Shared, "reattach"), &again)
	if err != nil || job2.State != slurm.Failed || job2.ExitCode != 4 {
		t.Fatalf("re-attached after the end: %+v, %v", job2, err)
	}
	if again.String() != out.String() {
		t.Errorf("after the end streamed %q, want the whole log %q", again.String(), out.String())
	}
}

// TestClusterTimeout runs the one job that outlives its time limit: Slurm's
// smallest limit is one minute and slurmctld checks limits every 30 s, so
// this test takes 60-90 s (it runs in parallel with the others).
func TestClusterTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 60-90 s: Slurm's smallest time limit is one minute")
	}
	t.Parallel()
	c, b := requireCluster(t)
	id := clusterJob(t, b, c.Shared, "timeout", `echo sleeping; sleep 300`, time.Minute)
	job, err := New(b, Options{}).Follow(context.Background(), id, clusterLogs(c.Shared, "timeout"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := ResultOf(job)
	if r.State != slurm.Timeout {
		t.Fatalf("result %+v, want TIMEOUT", r)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Errorf("err = %v", err)
	}
	if _, ok, _ := ReadStatus(StatusPath(c.Shared, id), id); ok {
		t.Errorf("a timed-out job wrote a status file")
	}
}
