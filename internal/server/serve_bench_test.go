package server_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAdmitServe is BenchmarkAdmit against a real slipway serve
// process (the binary SLIPWAY_BENCH_SLIPWAY names; scripts/bench's admit
// section sets it), on the embedded defaults in a fresh data directory,
// with one upload token and no rate limit (--rate-limit 0: the clients
// share the token). Besides the client's figures it reports the server's
// CPU time per admission (cpu-ms/admission), the clients' (this process,
// client-cpu-ms/admission) and the server's peak RSS (VmHWM).
func BenchmarkAdmitServe(b *testing.B) {
	bin := os.Getenv("SLIPWAY_BENCH_SLIPWAY")
	if bin == "" {
		b.Skip("set SLIPWAY_BENCH_SLIPWAY to a slipway binary to measure a real slipway serve (scripts/bench does)")
	}
	s := newSigner(b)
	pol := s.writePolicy(b, b.TempDir(), "")
	startSite(b, pol) // an in-process one too: its route table is what do checks answers against (checkAnswer)
	srv := startServe(b, bin, pol)
	benchAdmit(b, s, srv.url, srv.token, srv.cpu)
	b.ReportMetric(float64(srv.hwm(b))/1024, "server-VmHWM-MiB")
}

// serveProcess is a slipway serve the benchmark started.
type serveProcess struct {
	url, token string
	pid        int
}

// startServe runs bin serve on a fresh data directory and a free loopback
// port with policy pol, and makes an upload token with bin token create;
// the process gets SIGTERM when b ends.
func startServe(b *testing.B, bin, pol string) *serveProcess {
	b.Helper()
	data := filepath.Join(b.TempDir(), "data")
	out, err := exec.Command(bin, "token", "create", "--data", data, "--scope", "upload", "--name", "bench").Output()
	if err != nil {
		b.Fatalf("slipway token create: %v", err)
	}
	var tok string
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "token="); ok {
			tok = v
		}
	}
	if tok == "" {
		b.Fatal("slipway token create printed no token= line")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr, "--policy", pol, "--rate-limit", "0")
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting slipway serve: %v", err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
	})
	url := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-ctx.Done():
			b.Fatalf("slipway serve did not answer /healthz within 30 s; its log: %s", logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return &serveProcess{url: url, token: tok, pid: cmd.Process.Pid}
}

// cpu is the server's user and system CPU time so far (/proc/PID/stat).
func (p *serveProcess) cpu() time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis: state is the 3rd
	// field of the line, utime and stime the 14th and 15th.
	_, rest, _ := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / 100 // USER_HZ, 100 on Linux
}

// hwm is the server's peak resident set size in KiB (VmHWM).
func (p *serveProcess) hwm(b *testing.B) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(p.pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
