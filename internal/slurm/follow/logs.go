package follow

import (
	"os"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// openLogs sets up the tailers once the job's name is known (for %x).
func (r *run) openLogs(job slurm.Job) {
	if r.tails != nil || r.out == nil {
		return
	}
	name := job.Name
	if name == "" {
		name = r.logs.Name
	}
	paths := make([]string, 0, 2)
	for _, p := range []struct{ given, slurm string }{{r.logs.Stdout, job.Stdout}, {r.logs.Stderr, job.Stderr}} {
		path := p.slurm
		if p.given != "" {
			var err error
			if path, err = Expand(p.given, r.id, name); err != nil {
				r.f.o.Logger.Warn("not streaming a log of the job", "job", r.id, "err", err)
				continue
			}
		}
		if path == "" || (len(paths) == 1 && paths[0] == path) {
			continue
		}
		paths = append(paths, path)
	}
	r.tails = make([]*tailer, 0, len(paths))
	for _, p := range paths {
		r.tails = append(r.tails, newTailer(p, r.out))
	}
}

func (r *run) pollLogs() {
	now := time.Now()
	for _, t := range r.tails {
		if err := t.poll(now); err != nil {
			r.f.o.Logger.Warn("streaming stopped", "job", r.id, "file", t.path, "err", err)
		}
	}
}

// nextLogLook is how long until a log file is due to be looked at again;
// false when none is (no logs, or streaming stopped).
func (r *run) nextLogLook() (time.Duration, bool) {
	var next time.Time
	for _, t := range r.tails {
		if t.done || t.err != nil {
			continue
		}
		if next.IsZero() || t.due.Before(next) {
			next = t.due
		}
	}
	if next.IsZero() {
		return 0, false
	}
	return max(time.Until(next), time.Millisecond), true
}

func (r *run) finishLogs() {
	for _, t := range r.tails {
		if err := t.finish(); err != nil {
			r.f.o.Logger.Warn("streaming stopped", "job", r.id, "file", t.path, "err", err)
		}
	}
}

func (r *run) closeLogs() {
	for _, t := range r.tails {
		if t.f != nil {
			t.f.Close()
			t.f = nil
		}
	}
}

func statTime(path string) (time.Time, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, err
	}
	return fi.ModTime(), nil
}
