package tlog

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend measures admissions' log side: 16 and 512 appenders at
// once (a server under light and heavy load), each waiting for its receipt. It reports
// entries/s and the p50/p99 time from Append to receipt.
func BenchmarkAppend(b *testing.B) {
	for _, appenders := range []int{16, 512} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) { benchmarkAppend(b, appenders) })
	}
}

func benchmarkAppend(b *testing.B, appenders int) {
	l := openTest(b, "", Options{})
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(max(1, appenders/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := n.Add(1)
			e := testEntry(b, int(i), "dist/app", string(rune(i)))
			t0 := time.Now()
			if _, err := l.Append(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "appends/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
