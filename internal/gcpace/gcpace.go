package gcpace

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// DefaultTarget is the heap size the collector may let the heap reach while
// the live heap is small: 96 MiB.
const DefaultTarget = 96 << 20

// The GOGC values Percent chooses from: never below the Go default, never
// above 400 (a heap at most 5 times its live size).
const (
	minPercent = 100
	maxPercent = 400
)

// interval is how often Start reads the live heap (measured by the
// collector at the end of each cycle).
const interval = 500 * time.Millisecond

// Percent is the GOGC value that puts the heap's goal at target for a live
// heap of live bytes, within 100 and 400.
func Percent(live, target uint64) int {
	if live == 0 || target/live >= (maxPercent+100)/100 {
		return maxPercent
	}
	p := int(target*100/live) - 100
	return max(minPercent, min(maxPercent, p))
}

// Start paces the collector until ctx ends or the returned function is
// called (which puts the GOGC value back as it was): every half second it
// sets GOGC to Percent(live heap, target). With GOGC in the environment
// (getenv), it does nothing.
func Start(ctx context.Context, getenv func(string) string, target uint64) (stop func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	prev := debug.SetGCPercent(maxPercent)
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		current := maxPercent
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				continue
			}
			if p := Percent(sample[0].Value.Uint64(), target); p != current {
				debug.SetGCPercent(p)
				current = p
			}
		}
	}()
	return func() {
		cancel()
		<-done
		debug.SetGCPercent(prev)
	}
}
