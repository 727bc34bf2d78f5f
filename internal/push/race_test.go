package push

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
)

// TestConcurrentPushesToOneNewTag runs two real pushes of different content
// to the same new tag at once, against a real registry, many times and in
// several interleavings, and requires that exactly one of them succeeds,
// that the tag then points at the winner's content, and that the loser
// fails with exit code 1 naming both digests. Before the tag was read back
// after the put, "both checked" made both pushes succeed every time.
func TestConcurrentPushesToOneNewTag(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "a/app", []byte("content of the first push"))
	writeFile(t, dir, "b/app", []byte("content of the second push, which differs"))
	// Generous, for CI machines whose load delays a put by more than the
	// default 50 ms; the mechanism is the same.
	const settle = 500 * time.Millisecond
	const rounds = 8

	// hooks returns what each of the two pushes runs between its last check
	// of the tag and its put, in one round.
	tests := []struct {
		name  string
		hooks func() [2]func(context.Context)
	}{
		// Both find the tag absent before either sets it: the case that
		// only reading the tag back after the put can catch.
		{"both checked, then both put", func() [2]func(context.Context) {
			b := newBarrier(2)
			return [2]func(context.Context){b.wait, b.wait}
		}},
		// Both checked; the second puts a little later, while the first
		// may already have read its tag back.
		{"both checked, second puts later", func() [2]func(context.Context) {
			b := newBarrier(2)
			delay := time.Duration(rand.Int64N(int64(settle / 2)))
			return [2]func(context.Context){b.wait, func(ctx context.Context) { b.wait(ctx); _ = sleep(ctx, delay) }}
		}},
		// The second stalls between its check and its put for longer than
		// the check may be old: it checks again.
		{"second stalls after its check", func() [2]func(context.Context) {
			b := newBarrier(2)
			return [2]func(context.Context){b.wait, func(ctx context.Context) { b.wait(ctx); _ = sleep(ctx, 2*settle) }}
		}},
		{"no hook", func() [2]func(context.Context) { return [2]func(context.Context){nil, nil} }},
	}
	for n, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// One repository per case, which has the empty config blob
			// before the races: docker-registry rewrites a blob's link file
			// in place when two uploads of one blob commit at once, and a
			// manifest PUT reading it then gets "blob unknown" (a registry
			// race, not the one under test).
			repo := fmt.Sprintf("%s/slipway/race%d", addr, n)
			if _, err := Push(context.Background(), opts(t, dir, repo+":seed", "a/app")); err != nil {
				t.Fatal(err)
			}
			for round := range rounds {
				ref := fmt.Sprintf("%s:round%d", repo, round)
				hooks := tc.hooks()
				var wg sync.WaitGroup
				var results [2]*Result
				var errs [2]error
				start := make(chan struct{})
				for i, sub := range []string{"a/app", "b/app"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						o := opts(t, dir, ref, sub)
						o.TagSettle = settle
						if hooks[i] != nil {
							once := sync.Once{}
							hook := hooks[i]
							o.beforeSetTag = func(ctx context.Context) { once.Do(func() { hook(ctx) }) }
						}
						<-start
						results[i], errs[i] = Push(context.Background(), o)
					}()
				}
				close(start)
				wg.Wait()
				checkRace(t, ref, results, errs)
			}
		})
	}
}

// checkRace asserts the outcome of one race: one winner, whose content the
// tag holds; one loser, exit 1, naming both digests and what to do.
func checkRace(t *testing.T, ref string, results [2]*Result, errs [2]error) {
	t.Helper()
	if errs[0] == nil && errs[1] == nil {
		t.Fatalf("%s: both pushes succeeded (%s %s, %s %s): one of them was silently overwritten",
			ref, results[0].Status, results[0].Digest, results[1].Status, results[1].Digest)
	}
	if errs[0] != nil && errs[1] != nil {
		t.Fatalf("%s: both pushes failed: %v; and %v", ref, errs[0], errs[1])
	}
	win, lose := 0, 1
	if errs[0] != nil {
		win, lose = 1, 0
	}
	if results[win].Status != Pushed {
		t.Errorf("%s: winner status = %q, want %q", ref, results[win].Status, Pushed)
	}
	if d := headDigest(t, ref); d != results[win].Digest.String() {
		t.Errorf("%s: the tag points at %s, but the push that succeeded pushed %s", ref, d, results[win].Digest)
	}
	err := errs[lose]
	if exitcode.Of(err) != exitcode.Failed {
		t.Fatalf("%s: losing push: exit %d, %v; want exit 1", ref, exitcode.Of(err), err)
	}
	var moved *TagMovedError
	var exists *TagExistsError
	switch {
	case errors.As(err, &moved):
		if moved.Now != results[win].Digest.String() || moved.Ours == moved.Now {
			t.Errorf("%s: %+v, want the winner's digest %s as Now", ref, moved, results[win].Digest)
		}
		for _, want := range []string{moved.Ours, moved.Now, "another push set the same tag at the same time", "push to a new tag", "immutable tags"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", ref, err, want)
			}
		}
	case errors.As(err, &exists):
		if exists.Existing != results[win].Digest.String() || !strings.Contains(err.Error(), exists.New) {
			t.Errorf("%s: %v, want the winner's digest %s as the existing one", ref, err, results[win].Digest)
		}
	default:
		t.Errorf("%s: losing push failed with %T %v; want a TagMovedError or TagExistsError", ref, err, err)
	}
}

// barrier releases its waiters once n of them wait, or after 10 s (a push
// that failed before its hook never arrives).
type barrier struct {
	mu   sync.Mutex
	n    int
	done chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, done: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
		close(b.done)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
}
