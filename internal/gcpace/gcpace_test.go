package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		live, target uint64
		want         int
	}{
		{0, 96 * mib, 400},
		{1 * mib, 96 * mib, 400},
		{12 * mib, 96 * mib, 400},   // the goal 60 MiB: under the target
		{19 * mib, 96 * mib, 400},   // 95 MiB
		{24 * mib, 96 * mib, 300},   // exactly 96 MiB
		{32 * mib, 96 * mib, 200},   // 96 MiB
		{40 * mib, 96 * mib, 140},   // 96 MiB
		{48 * mib, 96 * mib, 100},   // 96 MiB, the default
		{60 * mib, 96 * mib, 100},   // the default: the goal 120 MiB, above the target
		{4096 * mib, 96 * mib, 100}, // never below the default
	} {
		if got := Percent(tc.live, tc.target); got != tc.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tc.live/mib, tc.target/mib, got, tc.want)
		}
	}
}

// gcPercent is the current GOGC value.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestStartHonoursGOGC(t *testing.T) {
	before := gcPercent()
	stop := Start(context.Background(), func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	}, DefaultTarget)
	defer stop()
	if got := gcPercent(); got != before {
		t.Fatalf("GOGC set in the environment, but the GC percent changed from %d to %d", before, got)
	}
}

func TestStartPacesAndRestores(t *testing.T) {
	before := gcPercent()
	// A live heap of about 64 MiB (kept alive to the end) against a
	// target of 96 MiB is over half the target: the default.
	live := make([]byte, 64<<20)
	runtime.GC()
	stop := Start(context.Background(), func(string) string { return "" }, DefaultTarget)
	if got := gcPercent(); got != maxPercent {
		t.Errorf("GC percent right after Start = %d, want %d until the live heap is read", got, maxPercent)
	}
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() != minPercent && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := gcPercent(); got != minPercent {
		t.Errorf("GC percent with a 64 MiB live heap = %d, want %d", got, minPercent)
	}
	runtime.KeepAlive(live)
	stop()
	if got := gcPercent(); got != before {
		t.Errorf("GC percent after stop = %d, want %d as before Start", got, before)
	}
}
