package follow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/slurm"
)

// LogFiles says where a job writes and what the follower needs to find it
// once Slurm has forgotten it.
type LogFiles struct {
	// Stdout and Stderr are the paths given to Slurm (--output, --error);
	// %j, %A, %x and %% are expanded here. "" takes the path Slurm reports;
	// a Stderr equal to Stdout is streamed once.
	Stdout, Stderr string
	// Name is the job's name, for %x when Slurm no longer knows the job.
	Name string
	// WorkDir is the job's working directory: its status file is
	// StatusPath(WorkDir, id). "" means the job writes none.
	WorkDir string
}

// ErrForgotten is wrapped by the error of Follow when Slurm no longer knows
// the job and it left no status file: its final state is unknown.
var ErrForgotten = errors.New("slurm no longer knows the job")

// CancelledError is returned by Follow when its context ended: the job was
// cancelled (or cancelling it failed, Err says why).
type CancelledError struct {
	ID    uint32
	Cause error // why the context ended (an *interrupt.Signal for SIGINT/SIGTERM)
	Err   error // the cancel's failure, nil when Slurm took it
}

func (e *CancelledError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cancelling job %d after %v failed: %v; cancel it by hand: scancel %d", e.ID, e.Cause, e.Err, e.ID)
	}
	return fmt.Sprintf("cancelled job %d (%v)", e.ID, e.Cause)
}

func (e *CancelledError) Unwrap() []error { return []error{e.Cause, e.Err} }

// Follow watches job id until Slurm reports a final state (or ctx ends),
// streams the new bytes of the job's stdout and stderr files to out as they
// grow, and returns the final Job. A job already running or finished is
// followed the same way (a restarted dispatcher re-attaching). The job's
// failure is not an error here: ResultOf(job).Err() says it. The error is
// for what kept Follow from knowing the end: ctx ended (the job is
// cancelled: *CancelledError), Slurm forgot the job without a status file
// (ErrForgotten), Slurm unreachable for longer than QueryGrace.
func (f *Follower) Follow(ctx context.Context, id uint32, logs LogFiles, out io.Writer) (slurm.Job, error) {
	statusPath := ""
	if logs.WorkDir != "" {
		statusPath = StatusPath(logs.WorkDir, id)
	}
	w := f.add(id, statusPath)
	defer f.remove(id, w)
	// A second signal ends the process at once: cancel the job on the way out.
	unhook := interrupt.OnForcedExit(func() {
		c, cancel := context.WithTimeout(context.Background(), cancelTimeout)
		defer cancel()
		_ = f.b.Cancel(c, id)
	})
	defer unhook()

	if out != nil && f.o.Untrusted != nil {
		var end func() error
		out, end = f.o.Untrusted(out)
		defer func() { _ = end() }() // after closeLogs' last bytes
	}
	r := run{f: f, id: id, logs: logs, out: out, statusPath: statusPath, w: w}
	defer r.closeLogs()
	job, err := r.wait(ctx.Done(), time.Time{})
	if err == nil || !errors.Is(err, errDone) {
		return job, err
	}
	// ctx ended: cancel the job, then give Slurm CancelWait to say so.
	cause := context.Cause(ctx)
	if s := interrupt.Of(ctx); s != nil {
		cause = s
	}
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
	cerr := f.b.Cancel(c, id)
	cancel()
	if cerr != nil {
		f.o.Logger.Error("cancelling the slurm job failed", "job", id, "cause", cause, "err", cerr)
	} else {
		f.o.Logger.Warn("cancelled slurm job", "job", id, "cause", cause)
	}
	if cerr == nil {
		if j, err := r.wait(nil, time.Now().Add(f.o.CancelWait)); err == nil {
			job = j
		}
	}
	r.finishLogs()
	return job, &CancelledError{ID: id, Cause: cause, Err: cerr}
}

// cancelTimeout bounds the cancel of a job whose follower was interrupted
// (scancel or REST DELETE answer in well under a second).
const cancelTimeout = 5 * time.Second

// errDone says wait stopped because its done channel closed or its
// deadline passed.
var errDone = errors.New("stopped waiting")

// run is one Follow call's state.
type run struct {
	f          *Follower
	id         uint32
	logs       LogFiles
	out        io.Writer
	statusPath string
	w          *watcher

	last     slurm.Job
	seen     bool
	tails    []*tailer
	lastOK   time.Time
	firstErr time.Time
}

// wait handles the loop's answers and streams logs until the job's state is
// final, done closes, or deadline (when set) passes.
func (r *run) wait(done <-chan struct{}, deadline time.Time) (slurm.Job, error) {
	tick := time.NewTimer(tailFast)
	defer tick.Stop()
	nextLook := func() {
		if d, ok := r.nextLogLook(); ok {
			tick.Reset(d)
		} else {
			tick.Stop()
		}
	}
	var until <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		until = t.C
	}
	if r.lastOK.IsZero() {
		r.lastOK = time.Now()
	}
	for {
		select {
		case <-done:
			r.pollLogs()
			return r.last, errDone
		case <-until:
			r.pollLogs()
			return r.last, errDone
		case <-r.w.status:
			r.pollLogs()
		case u := <-r.w.ch:
			job, final, err := r.handle(u)
			if err != nil || final {
				r.finishLogs()
				return job, err
			}
			r.pollLogs()
		case <-tick.C:
			r.pollLogs()
		}
		nextLook()
	}
}

// handle takes one query's answer: (job, true, nil) when the job ended.
func (r *run) handle(u update) (slurm.Job, bool, error) {
	if u.err != nil {
		if u.at.Sub(r.lastOK) > r.f.o.QueryGrace {
			return r.last, false, fmt.Errorf("following job %d: slurm has not answered for %s: %w; check slurmctld (scontrol ping), then follow the job again by its id", r.id, u.at.Sub(r.lastOK).Round(time.Second), u.err)
		}
		return r.last, false, nil
	}
	r.lastOK = u.at
	if !u.known {
		job, err := r.forgotten()
		return job, true, err
	}
	r.last, r.seen = u.job, true
	r.openLogs(u.job)
	if !u.job.State.Final() {
		return u.job, false, nil
	}
	job := u.job
	if st, ok, err := ReadStatus(r.statusPath, r.id); r.statusPath != "" && err == nil && ok && !st.Verified {
		job.Reason = refusal(st)
	} else if err != nil {
		r.f.o.Logger.Warn("ignoring the status file: slurm's state is final", "job", r.id, "err", err)
	}
	return job, true, nil
}

// forgotten decides the end of a job Slurm no longer knows: its status file,
// or an error.
func (r *run) forgotten() (slurm.Job, error) {
	job := r.last
	job.ID = r.id
	if job.Name == "" {
		job.Name = r.logs.Name
	}
	what := "before the follower first asked"
	if r.seen {
		what = fmt.Sprintf("after it was last seen %s", r.last.State)
	}
	if r.statusPath == "" {
		return job, fmt.Errorf("following job %d: %w (%s) and it has no status file (no workdir given): its final state is unknown; without slurmdbd Slurm keeps finished jobs only for MinJobAge (300 s by default)", r.id, ErrForgotten, what)
	}
	st, ok, err := ReadStatus(r.statusPath, r.id)
	if err != nil {
		return job, fmt.Errorf("following job %d: %w (%s), and its status file is unreadable: %w", r.id, ErrForgotten, what, err)
	}
	if !ok {
		return job, fmt.Errorf("following job %d: %w (%s) and it wrote no status file %q: its final state is unknown (it may have been cancelled, timed out or lost its node); without slurmdbd Slurm keeps finished jobs only for MinJobAge (300 s by default)", r.id, ErrForgotten, what, r.statusPath)
	}
	job.ExitCode, job.Signal = st.ExitCode, 0
	job.State = slurm.Completed
	if st.ExitCode != 0 || !st.Verified {
		job.State = slurm.Failed
	}
	job.Reason = "status file (slurm no longer knows the job)"
	if !st.Verified {
		job.Reason = refusal(st)
	}
	if fi, err := statTime(r.statusPath); err == nil && job.End.IsZero() {
		job.End = fi
	}
	r.openLogs(job)
	return job, nil
}

func refusal(st Status) string {
	s := "exec-verified refused"
	if st.Check != "" {
		s += ": check " + st.Check
	}
	if st.Detail != "" {
		s += ": " + st.Detail
	}
	return s
}
