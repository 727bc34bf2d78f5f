package follow

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/slipway/actions/internal/slurm"
)

// recorder is a test double of slurm.Backend (our own interface): it holds
// each job's state, set by the test, and records every call, so that tests
// can prove how the Follower queries.
type recorder struct {
	mu        sync.Mutex
	jobs      map[uint32]slurm.Job
	calls     [][]uint32
	cancelled []uint32
	fail      error
}

func newRecorder() *recorder { return &recorder{jobs: map[uint32]slurm.Job{}} }

func (r *recorder) set(j slurm.Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs[j.ID] = j
}

func (r *recorder) forget(id uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.jobs, id)
}

func (r *recorder) queries() [][]uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) Submit(context.Context, slurm.JobSpec) (uint32, error) {
	return 0, errors.New("recorder: submit is not used by the follower")
}

func (r *recorder) Jobs(_ context.Context, ids []uint32) (map[uint32]slurm.Job, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, slices.Clone(ids))
	if r.fail != nil {
		return nil, r.fail
	}
	m := map[uint32]slurm.Job{}
	for _, id := range ids {
		if j, ok := r.jobs[id]; ok {
			m[id] = j
		}
	}
	return m, nil
}

func (r *recorder) FindByComment(context.Context, string) ([]slurm.Job, error) { return nil, nil }

func (r *recorder) Cancel(_ context.Context, id uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancelled = append(r.cancelled, id)
	if j, ok := r.jobs[id]; ok && !j.State.Final() {
		j.State = slurm.Cancelled
		j.Signal = 15
		r.jobs[id] = j
	}
	return nil
}

func (r *recorder) Version(context.Context) (string, error) { return "22.05.8", nil }
