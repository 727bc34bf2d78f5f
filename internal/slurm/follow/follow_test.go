package follow

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

func fastOptions() Options {
	return Options{MinInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond, StatusPoll: 10 * time.Millisecond, CancelWait: time.Second}
}

// TestBatching follows many jobs at once and checks that every query asked
// about all of them together: one Backend.Jobs call per tick, never one per job.
func TestBatching(t *testing.T) {
	t.Parallel()
	const n = 50
	rec := newRecorder()
	for id := uint32(1); id <= n; id++ {
		rec.set(slurm.Job{ID: id, State: slurm.Running, ExitCode: -1})
	}
	f := New(rec, fastOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	results := make([]slurm.Job, n+1)
	errs := make([]error, n+1)
	for id := uint32(1); id <= n; id++ {
		wg.Go(func() { results[id], errs[id] = f.Follow(ctx, id, LogFiles{}, nil) })
	}
	// Wait until every job is followed, let a few ticks pass, then end them all.
	deadline := time.Now().Add(10 * time.Second)
	for {
		q := rec.queries()
		if len(q) > 0 && len(q[len(q)-1]) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follower never asked about all %d jobs at once; last queries: %v", n, q[max(0, len(q)-3):])
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	before := len(rec.queries())
	for id := uint32(1); id <= n; id++ {
		rec.set(slurm.Job{ID: id, State: slurm.Completed, ExitCode: 0})
	}
	wg.Wait()
	for id := uint32(1); id <= n; id++ {
		if errs[id] != nil || results[id].State != slurm.Completed {
			t.Fatalf("job %d: %v, %v", id, results[id].State, errs[id])
		}
	}
	q := rec.queries()
	full := 0
	for _, ids := range q {
		if len(ids) == n {
			full++
		}
	}
	// 300 ms at 20-100 ms per tick is 3-15 ticks; one poll per job would be 150 and more.
	if ticks := before - (len(q) - full); full < 2 || len(q) > 40 {
		t.Errorf("%d queries for %d jobs (%d with all of them, %d before the end): want one query per tick for all jobs", len(q), n, full, ticks)
	}
	t.Logf("%d jobs followed with %d queries (%d of them about all %d jobs)", n, len(q), full, n)
}

// TestIntervalAdapts checks that a job whose state does not change is asked
// about less and less often, within MaxInterval.
func TestIntervalAdapts(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.set(slurm.Job{ID: 7, State: slurm.Running})
	o := Options{MinInterval: 10 * time.Millisecond, MaxInterval: 80 * time.Millisecond, StatusPoll: 5 * time.Millisecond}
	f := New(rec, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Follow(ctx, 7, LogFiles{}, nil)
	}()
	time.Sleep(time.Second)
	n := len(rec.queries())
	cancel()
	<-done
	// At a steady 10 ms it would be about 100; growing by half each time up to 80 ms, about 15.
	if n < 8 || n > 30 {
		t.Errorf("%d queries in one second: want the interval to grow from 10 ms to 80 ms (about 15)", n)
	}
}

func TestStatusFileWhenForgotten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status, wantErr string
		state                 slurm.State
		exit                  int
	}{
		{name: "completed", status: `{"version":1,"jobId":"42","exitCode":0,"verified":true}`, state: slurm.Completed},
		{name: "failed", status: `{"version":1,"jobId":"42","exitCode":3,"verified":true}`, state: slurm.Failed, exit: 3},
		{name: "refused", status: `{"version":1,"jobId":"42","exitCode":65,"verified":false,"check":"digest","detail":"sha256:aa != sha256:bb"}`, state: slurm.Failed, exit: 65},
		{name: "no file", wantErr: "wrote no status file"},
		{name: "other job", status: `{"version":1,"jobId":"41","exitCode":0,"verified":true}`, wantErr: `jobId "41" is not job 42`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wd := t.TempDir()
			if tc.status != "" {
				os.MkdirAll(filepath.Join(wd, StatusDir), 0o755)
				if err := os.WriteFile(StatusPath(wd, 42), []byte(tc.status), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f := New(newRecorder(), fastOptions())
			job, err := f.Follow(context.Background(), 42, LogFiles{WorkDir: wd, Name: "n"}, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrForgotten) {
					t.Fatalf("err = %v, want ErrForgotten containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if job.State != tc.state || job.ExitCode != tc.exit || job.ID != 42 {
				t.Fatalf("job = %+v, want %s exit %d", job, tc.state, tc.exit)
			}
			if tc.name == "refused" && !strings.Contains(job.Reason, "check digest") {
				t.Errorf("reason %q does not name the refused check", job.Reason)
			}
		})
	}
}

// TestVanishedWithoutStatus: a job seen running that disappears from Slurm
// without a status file is an error, never a guessed COMPLETED.
func TestVanishedWithoutStatus(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.set(slurm.Job{ID: 9, State: slurm.Running})
	f := New(rec, fastOptions())
	go func() {
		for len(rec.queries()) < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		rec.forget(9)
	}()
	_, err := f.Follow(context.Background(), 9, LogFiles{WorkDir: t.TempDir()}, nil)
	if !errors.Is(err, ErrForgotten) || !strings.Contains(err.Error(), "after it was last seen RUNNING") {
		t.Fatalf("err = %v", err)
	}
}

func TestStatusFileSpeedsUpNotice(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.set(slurm.Job{ID: 5, State: slurm.Running})
	wd := t.TempDir()
	// Slow queries (1 s), fast status polling: the status file must bring the next query forward.
	f := New(rec, Options{MinInterval: 20 * time.Millisecond, MaxInterval: time.Second, StatusPoll: 10 * time.Millisecond})
	ended := make(chan time.Time, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond) // the interval has grown to its 1 s ceiling
		os.MkdirAll(filepath.Join(wd, StatusDir), 0o755)
		os.WriteFile(StatusPath(wd, 5), []byte(`{"version":1,"jobId":"5","exitCode":0,"verified":true}`), 0o644)
		rec.set(slurm.Job{ID: 5, State: slurm.Completed})
		ended <- time.Now()
	}()
	job, err := f.Follow(context.Background(), 5, LogFiles{WorkDir: wd}, nil)
	if err != nil || job.State != slurm.Completed {
		t.Fatal(job, err)
	}
	if d := time.Since(<-ended); d > 300*time.Millisecond {
		t.Errorf("noticed %s after the status file appeared; want about StatusPoll + MinInterval", d)
	}
}

func TestCancelOnContext(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.set(slurm.Job{ID: 11, State: slurm.Running})
	f := New(rec, fastOptions())
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel(errors.New("interrupted by SIGTERM"))
	}()
	job, err := f.Follow(ctx, 11, LogFiles{}, nil)
	var ce *CancelledError
	if !errors.As(err, &ce) || err.Error() != "cancelled job 11 (interrupted by SIGTERM)" {
		t.Fatalf("err = %v", err)
	}
	if job.State != slurm.Cancelled {
		t.Errorf("state %s after the cancel, want CANCELLED (the follower waits for Slurm to say so)", job.State)
	}
	if len(rec.cancelled) != 1 || rec.cancelled[0] != 11 {
		t.Errorf("cancelled %v, want [11]", rec.cancelled)
	}
}

func TestQueryGrace(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	rec.fail = errors.New("slurm_load_jobs error: Unable to contact slurm controller")
	o := fastOptions()
	o.QueryGrace = 200 * time.Millisecond
	_, err := New(rec, o).Follow(context.Background(), 3, LogFiles{}, nil)
	if err == nil || !strings.Contains(err.Error(), "slurm has not answered for") || !strings.Contains(err.Error(), "Unable to contact") {
		t.Fatalf("err = %v", err)
	}
}

// TestStreamsLogs: the job's stdout and stderr (%j and %x expanded) are
// streamed as they grow, whole lines, the last partial line at the end.
func TestStreamsLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	rec.set(slurm.Job{ID: 77, Name: "follow-logs", State: slurm.Running})
	f := New(rec, fastOptions())
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	seen := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	go func() {
		time.Sleep(50 * time.Millisecond) // the files do not exist yet when following starts
		o, _ := os.Create(filepath.Join(dir, "follow-logs-77.out"))
		e, _ := os.Create(filepath.Join(dir, "77.err"))
		o.WriteString("one\ntw")
		waitFor(t, func() bool { return seen() == "one\n" })
		o.WriteString("o\n")
		e.WriteString("err line\n")
		waitFor(t, func() bool { return strings.Contains(seen(), "two\n") && strings.Contains(seen(), "err line\n") })
		o.WriteString("no newline")
		o.Close()
		e.Close()
		rec.set(slurm.Job{ID: 77, Name: "follow-logs", State: slurm.Completed})
	}()
	job, err := f.Follow(context.Background(), 77, LogFiles{Stdout: dir + "/%x-%j.out", Stderr: dir + "/%j.err"}, w)
	if err != nil || job.State != slurm.Completed {
		t.Fatal(job, err)
	}
	got := seen()
	if !strings.HasPrefix(got, "one\n") || !strings.HasSuffix(got, "no newline\n") || strings.Count(got, "\n") != 4 {
		t.Errorf("streamed %q", got)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func waitFor(t *testing.T, cond func() bool) {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Error("condition not met within 5 s")
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
