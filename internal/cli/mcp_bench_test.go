package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/testutil/servetest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// BenchmarkMCPListReleases measures list_releases over stdio against a
// SQLite store of SLIPWAY_BENCH_RELEASES (default 100,000) releases: a
// real slipway serve (the binary SLIPWAY_BENCH_SLIPWAY names, else this
// test binary as slipway) on the seeded data directory, and a real
// slipway mcp subprocess on pipes that the SDK's client drives. The calls
// rotate through the first page, a repository search, a digest search
// and a second page (keyset), and p50/p99 of the call as the client sees
// it are reported (issue 10's bar: p99 under 20 ms).
func BenchmarkMCPListReleases(b *testing.B) {
	n := 100_000
	if s := os.Getenv("SLIPWAY_BENCH_RELEASES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 100 {
			b.Fatalf("SLIPWAY_BENCH_RELEASES=%q: give a whole number of at least 100", s)
		}
	}
	bin := os.Getenv("SLIPWAY_BENCH_SLIPWAY")
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		bin = filepath.Join(b.TempDir(), "slipway")
		writeFile(b, bin, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
		os.Chmod(bin, 0o755)
	}
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	start := time.Now()
	digests := servetest.Seed(b, data, n)
	b.Logf("seeded %d releases in %s", n, time.Since(start).Round(time.Millisecond))
	writeFile(b, filepath.Join(dir, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: k, path: k.pub}]\n")
	writeFile(b, filepath.Join(dir, "k.pub"), string(sigstoretest.NewCosignKey(b, "pw").PublicPEM))
	out, err := exec.Command(bin, "token", "create", "--data", data, "--scope", "read", "--name", "bench").Output()
	tok := nameValues(string(out))["token"]
	if err != nil || tok == "" {
		b.Fatalf("slipway token create: %v %s", err, out)
	}
	url := servetest.Start(b, bin, nil, nil, "--data", data, "--listen", "127.0.0.1:0", "--policy", filepath.Join(dir, "policy.yaml"), "--rate-limit", "0")
	cmd := exec.Command(bin, "mcp", "--server", url)
	cmd.Env = append(os.Environ(), "SLIPWAY_TOKEN="+tok)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatalf("starting slipway mcp: %v", err)
	}
	defer cs.Close()
	ctx := context.Background()
	first, msg := callTool(b, cs, "list_releases", nil)
	if msg != "" {
		b.Fatalf("list_releases: %s", msg)
	}
	queries := []map[string]any{
		nil,
		{"repository": "github.com/bench/repo-7"},
		{"digest": digests[n/2]},
		{"pageToken": first["nextPageToken"]},
	}
	// The reference: the same queries straight to the API, as any HTTP
	// client sends them (what the MCP layer adds is the difference).
	apiQueries := []string{"", "?repository=github.com/bench/repo-7", "?digest=" + digests[n/2], "?page_token=" + pageToken(b, url, tok)}
	api := make([]time.Duration, 0, b.N)
	for i := range b.N {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/releases"+apiQueries[i%len(apiQueries)], nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		api = append(api, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /api/v1/releases%s: %v", apiQueries[i%len(apiQueries)], err)
		}
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_releases", Arguments: queries[i%len(queries)]})
		times = append(times, time.Since(t0))
		if err != nil || res.IsError {
			b.Fatalf("list_releases %v: %v %v", queries[i%len(queries)], err, res)
		}
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / 1e6
	}
	b.ReportMetric(pct(times, 0.50), "p50-ms")
	b.ReportMetric(pct(times, 0.99), "p99-ms")
	b.ReportMetric(pct(api, 0.50), "api-p50-ms")
	b.ReportMetric(pct(api, 0.99), "api-p99-ms")
	b.ReportMetric(float64(n), "releases")
}

// pageToken is the page_token of the API's second page of releases.
func pageToken(b *testing.B, url, tok string) string {
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/releases", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Next string }
	json.NewDecoder(resp.Body).Decode(&page)
	u, err := neturl.Parse(page.Next)
	if err != nil || page.Next == "" {
		b.Fatalf("no next page: %q", page.Next)
	}
	return neturl.QueryEscape(u.Query().Get("page_token"))
}
