package server

import (
	"context"
	"sync"
)

// inflight lets one request at a time work on a key (a manifest digest, a
// dispatch id): the others wait for it, then find its result.
type inflight[K comparable] struct {
	mu   sync.Mutex
	busy map[K]chan struct{}
}

func newInflight[K comparable]() *inflight[K] { return &inflight[K]{busy: map[K]chan struct{}{}} }

// begin waits until no other request holds k, then holds it; the caller
// calls done when finished. Requests on different keys never wait for
// each other.
func (f *inflight[K]) begin(ctx context.Context, k K) (done func(), err error) {
	for {
		f.mu.Lock()
		ch, busy := f.busy[k]
		if !busy {
			ch = make(chan struct{})
			f.busy[k] = ch
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.busy, k)
				f.mu.Unlock()
				close(ch)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}
