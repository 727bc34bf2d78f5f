package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/token"
)

// BenchmarkAdmit admits small key-signed releases (a 1 KiB artifact, its
// signature bundle and provenance, uploaded before the timer starts) from
// 64 x GOMAXPROCS clients at once into an in-process server on the
// embedded defaults, and reports admissions per second, the p50/p99 time
// to receipt and the CPU time per admission (server and clients). Run
// with -benchtime=Nx (N of at least a few thousand: the first checkpoints
// are a large part of a short run). BenchmarkAdmitServe measures a real
// slipway serve process the same way.
func BenchmarkAdmit(b *testing.B) {
	s := newSigner(b)
	site := startSite(b, s.writePolicy(b, b.TempDir(), ""))
	tok := site.token(b, "bench", token.Upload)
	benchAdmit(b, s, site.url, tok, nil)
}

// admitClients is the number of concurrent clients per GOMAXPROCS: a CI
// fleet's runners, each waiting for its receipt (for a checkpoint).
// SLIPWAY_BENCH_ADMIT_CLIENTS (a whole number, clients per GOMAXPROCS)
// sets another: scripts/bench's admit section measures a curve of them.
const admitClients = 64

// clientsPerProc is SLIPWAY_BENCH_ADMIT_CLIENTS, else admitClients.
func clientsPerProc(b *testing.B) int {
	v := os.Getenv("SLIPWAY_BENCH_ADMIT_CLIENTS")
	if v == "" {
		return admitClients
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 4096 {
		b.Fatalf("SLIPWAY_BENCH_ADMIT_CLIENTS=%q: give a whole number of clients per GOMAXPROCS from 1 to 4096", v)
	}
	return n
}

// benchAdmit prepares b.N releases, uploads their files (untimed), then
// admits them from clientsPerProc x GOMAXPROCS clients and reports the
// figures. server is the CPU time of a server in another process: its
// share is cpu-ms/admission, and this process's (the clients') is
// client-cpu-ms/admission; nil for a server in this process, when
// cpu-ms/admission is both.
func benchAdmit(b *testing.B, s *signer, url, tok string, server func() time.Duration) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}
	defer client.CloseIdleConnections()
	manifests := make([][]byte, b.N)
	var wg sync.WaitGroup
	var prepared atomic.Int64
	for range 4 {
		wg.Go(func() {
			for i := prepared.Add(1) - 1; i < int64(b.N); i = prepared.Add(1) - 1 {
				dir := b.TempDir()
				content := make([]byte, 1024)
				copy(content, fmt.Sprintf("artifact %d of run %d", i, time.Now().UnixNano()))
				s.release(b, dir, content, testBuilder, testSource)
				manifests[i] = uploadAll(b, url, tok, dir)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	perProc := clientsPerProc(b)
	b.SetParallelism(perProc)
	stop := profileTimed(b)
	defer stop()
	b.ResetTimer()
	cpu := server
	if cpu == nil {
		cpu = cpuTime
	}
	cpu0, self0 := cpu(), cpuTime()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			t0 := time.Now()
			code, body := post(b, client, url+"/api/v1/releases", tok, manifests[i])
			lat[i] = time.Since(t0)
			if code != http.StatusCreated {
				b.Errorf("admission %d: %d %s", i, code, body)
			}
		}
	})
	elapsed := time.Since(start)
	used, self := cpu()-cpu0, cpuTime()-self0
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "admissions/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	// CPU time per admission (user and system) is the steadier figure on a
	// shared machine: the throughput the cores allow is about
	// cores / cpu-ms-per-admission.
	b.ReportMetric(float64(used.Microseconds())/1000/float64(b.N), "cpu-ms/admission")
	if server != nil {
		b.ReportMetric(float64(self.Microseconds())/1000/float64(b.N), "client-cpu-ms/admission")
	}
	b.ReportMetric(float64(perProc*runtime.GOMAXPROCS(0)), "clients")
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// post sends one POST with client and returns the status and body.
func post(b *testing.B, client *http.Client, url, tok string, body []byte) (int, []byte) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// profileTimed writes a CPU profile of the timed part alone to the file
// SLIPWAY_BENCH_CPUPROFILE names (go test -cpuprofile would include the
// uploads before the timer); the caller calls the returned function.
func profileTimed(b *testing.B) func() {
	p := os.Getenv("SLIPWAY_BENCH_CPUPROFILE")
	if p == "" {
		return func() {}
	}
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
