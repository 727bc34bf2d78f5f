package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway/actions/internal/token"
)

// BenchmarkAdmit admits small key-signed releases (a 1 KiB artifact, its
// signature bundle and provenance, uploaded before the timer starts) from
// 64 x GOMAXPROCS clients at once on the embedded defaults, and reports admissions per
// second and the p50/p99 time to receipt. Run with -benchtime=Nx.
func BenchmarkAdmit(b *testing.B) {
	s := newSigner(b)
	site := startSite(b, s.writePolicy(b, b.TempDir(), ""))
	tok := site.token(b, "bench", token.Upload)
	manifests := make([][]byte, b.N)
	for i := range b.N {
		dir := b.TempDir()
		content := make([]byte, 1024)
		copy(content, fmt.Sprintf("artifact %d of run %d", i, time.Now().UnixNano()))
		s.release(b, dir, content, testBuilder, testSource)
		manifests[i] = uploadAll(b, site.url, tok, dir)
	}
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	b.SetParallelism(64) // 64 x GOMAXPROCS clients: each waits for a checkpoint
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			t0 := time.Now()
			code, body, _ := do(b, "POST", site.url+"/api/v1/releases", tok, manifests[i])
			lat[i] = time.Since(t0)
			if code != http.StatusCreated {
				b.Errorf("admission %d: %d %s", i, code, body)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "admissions/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
}
