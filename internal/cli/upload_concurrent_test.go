package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/upload"
)

// TestUploadConcurrent: 100 clients upload 100 distinct key-signed releases
// to one real slipway serve at once, and 20 more upload copies of 20 of
// them at the same time. Every upload succeeds; each release is admitted
// exactly once (100 answers 201, the copies get the same release and
// entry), the log holds 100 entries, every receipt verifies offline
// against the log's key, and nothing partial is left in DATA/uploads or
// DATA/staging. The releases are signed in-process with one key.
func TestUploadConcurrent(t *testing.T) {
	t.Parallel()
	const releases, copies = 100, 20
	root := t.TempDir()
	kp, pub := policytest.NewKeypair(t)
	writeFile(t, filepath.Join(root, "release.pub"), string(pub))
	writeFile(t, filepath.Join(root, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: ["+releaseBuilder+"]\n")
	dirs := make([]string, 0, releases+copies)
	for i := range releases {
		dir := filepath.Join(root, fmt.Sprintf("r%03d", i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		policytest.WriteRelease(t, dir, kp, []byte(fmt.Sprintf("artifact %d of the concurrent test\n", i)), releaseBuilder, "git+https://github.com/acme/app")
		dirs = append(dirs, dir)
	}
	for i := range copies {
		dir := filepath.Join(root, fmt.Sprintf("c%03d", i))
		if err := os.CopyFS(dir, os.DirFS(dirs[i*5])); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	data := t.TempDir()
	tok := createToken(t, root, data, "upload,read")
	url := startServe(t, root, data, "policy.yaml")
	before := peakRSS(t)

	type result struct {
		res *upload.Result
		err error
	}
	results := make([]result, len(dirs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(dirs)}}
	for i, dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := upload.Upload(context.Background(), upload.Options{Server: url, Manifest: "manifest.json", Dir: dir, HTTP: client,
				Token: func(context.Context) (string, error) { return tok, nil }})
			results[i] = result{res, err}
		}()
	}
	close(start)
	wg.Wait()

	created := map[string]int{}
	index := map[string]uint64{}
	v := logVerifier(t, url)
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("upload of %s: %v", dirs[i], r.err)
		}
		if r.res.Created {
			created[r.res.ID]++
		}
		if prev, ok := index[r.res.ID]; ok && prev != r.res.LogIndex {
			t.Errorf("release %s answered log entries %d and %d", r.res.ID, prev, r.res.LogIndex)
		}
		index[r.res.ID] = r.res.LogIndex
		rc, err := receipt.Parse([]byte(r.res.Receipt))
		if err != nil {
			t.Fatal(err)
		}
		if err := receipt.Verify(rc, nil, v); err != nil {
			t.Errorf("the receipt of %s does not verify: %v", dirs[i], err)
		}
	}
	if len(index) != releases || len(created) != releases {
		t.Fatalf("%d releases, %d of them created; want %d admitted once each", len(index), len(created), releases)
	}
	for id, n := range created {
		if n != 1 {
			t.Errorf("release %s was created %d times", id, n)
		}
	}
	for i := range copies {
		if results[releases+i].res.ID != results[i*5].res.ID {
			t.Errorf("copy %d is release %s, its original %s", i, results[releases+i].res.ID, results[i*5].res.ID)
		}
	}
	if n := treeSizeOf(t, url); n != releases {
		t.Errorf("the log holds %d entries, want %d", n, releases)
	}
	d := datadir.Dir(data)
	for _, dir := range []string{d.Uploads(), d.Staging()} {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				t.Errorf("left behind after the uploads: %s", p)
			}
			return nil
		})
	}
	t.Logf("%d uploads of %d releases; peak RSS of the test process (clients and server) %d KiB before, %d KiB after", len(dirs), releases, before, peakRSS(t))
}

// logVerifier is a receipt verifier for the log key of the server at url.
func logVerifier(t *testing.T, url string) note.Verifier {
	t.Helper()
	resp, err := http.Get(url + "/api/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	key, _ := io.ReadAll(resp.Body)
	v, err := receipt.NewVerifier(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// treeSizeOf is the size of the latest checkpoint the server at url
// publishes (its second line).
func treeSizeOf(t *testing.T, url string) uint64 {
	t.Helper()
	resp, err := http.Get(url + "/log/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 3 {
		t.Fatalf("checkpoint %q", b)
	}
	n, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatalf("checkpoint %q: %v", b, err)
	}
	return n
}

// peakRSS is the process's peak resident set (VmHWM), in KiB; 0 where
// /proc does not say.
func peakRSS(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
