package follow

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// Options bound how often the Follower asks Slurm and looks for status files.
type Options struct {
	// MinInterval is the shortest time between two queries (default 200 ms):
	// a job just followed, or whose status file appeared, is asked about at
	// this pace, and no burst of new jobs makes queries more frequent.
	MinInterval time.Duration
	// MaxInterval is the longest (default 5 s): a job whose state does not
	// change is asked about half again less often each time up to this.
	MaxInterval time.Duration
	// StatusPoll is how often the status files' directories are looked at
	// (one stat per directory; default 100 ms).
	StatusPoll time.Duration
	// CancelWait is how long Follow waits, after cancelling a job, for Slurm
	// to report its end (default 5 s; with the cancel itself it stays within
	// internal/interrupt's 15 s grace, so that the caller can say so).
	CancelWait time.Duration
	// QueryGrace is how long Slurm may stay unreachable before Follow gives
	// up (default 2 min); a slurmctld restart is shorter.
	QueryGrace time.Duration
	// QueryTimeout bounds one Backend.Jobs call (default 30 s).
	QueryTimeout time.Duration
	// Logger receives state changes and query failures; nil is silent.
	Logger *slog.Logger
	// OnChange, when set, is called from the Follower's loop with a job
	// whenever its state differs from the last one seen (it must not block).
	OnChange func(slurm.Job)
	// Untrusted, when set, wraps the writer Follow streams a job's log to,
	// for the time of one Follow: the log is the job's text, not ours (in a
	// GitHub Actions step: action.StopCommands, so that the job cannot forge
	// workflow commands). end is called before Follow returns.
	Untrusted func(out io.Writer) (w io.Writer, end func() error)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.MinInterval, 200*time.Millisecond)
	def(&o.MaxInterval, 5*time.Second)
	if o.MaxInterval < o.MinInterval {
		o.MaxInterval = o.MinInterval
	}
	def(&o.StatusPoll, 100*time.Millisecond)
	def(&o.CancelWait, 5*time.Second)
	def(&o.QueryGrace, 2*time.Minute)
	def(&o.QueryTimeout, 30*time.Second)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Follower follows any number of jobs with one Backend.Jobs query per tick.
// Use one per process; it is safe for concurrent use.
type Follower struct {
	b slurm.Backend
	o Options

	mu      sync.Mutex
	jobs    map[uint32]*entry
	running bool
	wake    chan struct{}
}

// entry is one followed job id (several Follow calls may share it).
type entry struct {
	id       uint32
	watchers map[*watcher]struct{}
	interval time.Duration
	state    slurm.State
	seen     bool // Slurm reported it at least once
	status   string
	statusOK bool // its status file was seen
}

// update is what one query said about one job.
type update struct {
	job   slurm.Job
	known bool // Slurm still knows the job
	err   error
	at    time.Time
}

type watcher struct {
	ch     chan update // latest wins
	status chan struct{}
}

// New returns a Follower asking b.
func New(b slurm.Backend, o Options) *Follower {
	o.defaults()
	return &Follower{b: b, o: o, jobs: map[uint32]*entry{}, wake: make(chan struct{}, 1)}
}

// add registers a watcher for id (statusPath "" when the job has no status
// file) and starts the loop when it is not running.
func (f *Follower) add(id uint32, statusPath string) *watcher {
	w := &watcher{ch: make(chan update, 1), status: make(chan struct{}, 1)}
	f.mu.Lock()
	e := f.jobs[id]
	if e == nil {
		e = &entry{id: id, watchers: map[*watcher]struct{}{}, interval: f.o.MinInterval}
		f.jobs[id] = e
	}
	if e.status == "" {
		e.status = statusPath
	}
	e.interval = f.o.MinInterval
	e.watchers[w] = struct{}{}
	start := !f.running
	f.running = true
	f.mu.Unlock()
	if start {
		go f.loop()
	}
	f.poke()
	return w
}

func (f *Follower) remove(id uint32, w *watcher) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.jobs[id]; e != nil {
		delete(e.watchers, w)
		if len(e.watchers) == 0 {
			delete(f.jobs, id)
		}
	}
}

func (f *Follower) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// loop queries Slurm for every followed job at once, at the shortest
// interval any of them asks for but never more often than MinInterval, and
// looks at the status files' directories every StatusPoll. It ends when no
// job is followed.
func (f *Follower) loop() {
	status := time.NewTicker(f.o.StatusPoll)
	defer status.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	dirs := map[string]dirStamp{}
	var last time.Time
	next := time.Now()
	for {
		select {
		case <-timer.C:
		case <-f.wake:
			if t := last.Add(f.o.MinInterval); t.Before(next) {
				next = t
			}
		case <-status.C:
			if f.scanStatus(dirs) {
				if t := last.Add(f.o.MinInterval); t.Before(next) {
					next = t
				}
			}
		}
		if now := time.Now(); now.Before(next) {
			timer.Reset(next.Sub(now))
			continue
		}
		ids := f.ids()
		if ids == nil {
			return
		}
		last = time.Now()
		next = last.Add(f.query(ids))
		timer.Reset(time.Until(next))
	}
}

// ids lists the followed jobs, or nil (stopping the loop) when there are none.
func (f *Follower) ids() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.jobs) == 0 {
		f.running = false
		return nil
	}
	ids := make([]uint32, 0, len(f.jobs))
	for id := range f.jobs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// query asks Slurm once about ids, hands each watcher its job's answer,
// adapts the jobs' intervals and returns the shortest.
func (f *Follower) query(ids []uint32) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), f.o.QueryTimeout)
	got, err := f.b.Jobs(ctx, ids)
	cancel()
	at := time.Now()
	if err != nil {
		f.o.Logger.Warn("querying slurm failed", "jobs", len(ids), "err", err)
	}
	var changed []slurm.Job
	f.mu.Lock()
	shortest := f.o.MaxInterval
	for _, id := range ids {
		e := f.jobs[id]
		if e == nil { // its last Follow returned meanwhile
			continue
		}
		u := update{at: at, err: err}
		if err == nil {
			u.job, u.known = got[id]
			if u.known && (!e.seen || u.job.State != e.state) {
				e.interval = f.o.MinInterval
				changed = append(changed, u.job)
			} else if e.interval = e.interval * 3 / 2; e.interval > f.o.MaxInterval {
				e.interval = f.o.MaxInterval
			}
			if u.known {
				e.seen, e.state = true, u.job.State
			}
			if e.statusOK || u.job.State == slurm.Completing {
				e.interval = f.o.MinInterval // its end is near
			}
		} else if e.interval = e.interval * 2; e.interval > f.o.MaxInterval {
			e.interval = f.o.MaxInterval
		}
		shortest = min(shortest, e.interval)
		for w := range e.watchers {
			select { // latest wins
			case <-w.ch:
			default:
			}
			w.ch <- u
		}
	}
	f.mu.Unlock()
	for _, j := range changed {
		f.o.Logger.Info("slurm job state", "job", j.ID, "state", j.State, "reason", j.Reason)
		if f.o.OnChange != nil {
			f.o.OnChange(j)
		}
	}
	return shortest
}

// dirStamp is what a status directory looked like at the last look.
type dirStamp struct {
	mod   time.Time
	size  int64
	looks int
}

// scanStatus stats each directory holding status files of followed jobs; when
// one changed (or every tenth look, for filesystems whose directory times
// lag), it stats the status files of its jobs not seen yet. It reports
// whether a status file appeared.
func (f *Follower) scanStatus(dirs map[string]dirStamp) bool {
	f.mu.Lock()
	byDir := map[string][]*entry{}
	for _, e := range f.jobs {
		if e.status != "" && !e.statusOK {
			d := filepath.Dir(e.status)
			byDir[d] = append(byDir[d], e)
		}
	}
	f.mu.Unlock()
	for d := range dirs {
		if byDir[d] == nil {
			delete(dirs, d)
		}
	}
	found := false
	for d, es := range byDir {
		fi, err := os.Stat(d)
		if err != nil {
			continue // not made yet: the job has not ended
		}
		old, had := dirs[d]
		st := dirStamp{mod: fi.ModTime(), size: fi.Size(), looks: old.looks + 1}
		dirs[d] = st
		if had && st.mod.Equal(old.mod) && st.size == old.size && st.looks%10 != 0 {
			continue
		}
		for _, e := range es {
			if _, err := os.Stat(e.status); err != nil {
				continue
			}
			found = true
			f.mu.Lock()
			e.statusOK = true
			e.interval = f.o.MinInterval
			for w := range e.watchers {
				select {
				case w.status <- struct{}{}:
				default:
				}
			}
			f.mu.Unlock()
		}
	}
	return found
}
