package servetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/store"
)

// Repositories is how many source repositories Seed spreads its releases over: release i comes from
// https://github.com/bench/repo-<i mod Repositories>, written as admission records a source repository (the
// normalized URI that GET /api/v1/releases?repository=github.com/bench/repo-7 looks for).
const Repositories = 100

// Seed records n releases of Repositories repositories, one artifact each, one millisecond apart (the last one
// now), in data's embedded store (created if need be), and returns their artifacts' digests, index i for release
// i (ID r-<i+1 in 16 hex digits>).
func Seed(tb testing.TB, data string, n int) []string {
	tb.Helper()
	ctx := context.Background()
	if err := datadir.Dir(data).Ensure(); err != nil {
		tb.Fatal(err)
	}
	db, err := datadir.Dir(data).OpenStore(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	digests := make([]string, n)
	base := time.Now().Add(-time.Duration(n) * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, seedWriters)
	for w := range seedWriters {
		wg.Go(func() {
			for i := w; i < n; i += seedWriters {
				d := fmt.Sprintf("sha256:%064x", i+1)
				digests[i] = d
				r := store.Release{ID: fmt.Sprintf("r-%016x", i+1), SourceRepository: fmt.Sprintf("https://github.com/bench/repo-%d", i%Repositories),
					Uploader: "token:bench/seed", ManifestDigest: fmt.Sprintf("sha256:%064x", n+i+1), Created: base.Add(time.Duration(i) * time.Millisecond),
					Artifacts: []store.Artifact{{Digest: d, Size: 1024, Name: "app.bin"}}, LogIndex: uint64(i), LogEntry: []byte("{}"),
					Receipt: []byte("receipt"), Checks: []string{"PASS digest app.bin"}, Manifest: []byte("{}")}
				if err := db.CreateRelease(ctx, r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatal(err)
	}
	return digests
}

// seedWriters write at once: the store commits their releases in groups.
const seedWriters = 64

// Start runs "bin serve" with args (which must include --listen 127.0.0.1:0) and env added to this process's
// environment until tb ends, and returns the server's URL once it logs that it serves; the rest of its log goes
// to logs (nil: discarded).
func Start(tb testing.TB, bin string, env []string, logs io.Writer, args ...string) string {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	addr := regexp.MustCompile(`"msg":"serving","addr":"([0-9.:]+)"`)
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := addr.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
					if logs != nil {
						fmt.Fprintln(logs, sc.Text())
					}
				}
			}()
			return "http://" + m[1]
		}
	}
	tb.Fatalf("slipway serve exited before serving:\n%s", strings.Join(lines, "\n"))
	return ""
}
