package tlog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// openAWSTest opens a log in cfg with the key in keyFile (through Open
// with Options.AWS, as slipway serve does) and closes it when the test ends.
func openAWSTest(t *testing.T, cfg AWS, keyFile string) *Log {
	t.Helper()
	l, err := Open(context.Background(), "", Options{KeyFile: keyFile, BatchMaxAge: 10e6, AWS: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// TestAWS: a log in a real S3 bucket (versitygw) sequenced by a real
// MariaDB, opened twice at once as two replicas do: appends through both
// get receipts that verify, the two see one tree (consistency proofs
// between their checkpoints), /log/ serves the checkpoint and tiles from
// the bucket, and a reopened log keeps its entries.
func TestAWS(t *testing.T) {
	t.Parallel()
	cfg := testAWS(t).config()
	keyFile := filepath.Join(t.TempDir(), "log.key")
	vkey, err := CreateKey(keyFile, "slipway.test/aws")
	if err != nil {
		t.Fatal(err)
	}
	a := openAWSTest(t, cfg, keyFile)
	b := openAWSTest(t, cfg, keyFile)
	if a.VerifierKey() != vkey || b.Origin() != "slipway.test/aws" || a.Dir() != "" {
		t.Fatalf("verifier key %q, origin %q, dir %q", a.VerifierKey(), b.Origin(), a.Dir())
	}
	ctx := context.Background()

	var mu sync.Mutex
	var receipts []*receipt.Receipt
	var wg sync.WaitGroup
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			r, err := l.Append(ctx, testEntry(t, i, "dist/app", strings.Repeat("x", i)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			receipts = append(receipts, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	seen := map[uint64]bool{}
	for _, r := range receipts {
		if err := receipt.Verify(r, nil, a.Verifier()); err != nil {
			t.Fatalf("receipt of entry %d: %v", r.Index, err)
		}
		if seen[r.Index] {
			t.Fatalf("two appends got index %d", r.Index)
		}
		seen[r.Index] = true
	}

	// One tree: b proves that a's latest checkpoint extends every
	// receipt's, and the other way round.
	latest := func(l *Log) *log.Checkpoint {
		raw, err := l.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cp, _, _, err := log.ParseCheckpoint(raw, l.Origin(), l.Verifier())
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	now := latest(a)
	if now.Size < 40 {
		t.Fatalf("checkpoint of size %d after 40 appends", now.Size)
	}
	for _, r := range receipts {
		old, err := r.Tree(a.Verifier())
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range []*Log{a, b} {
			p, err := l.ConsistencyProof(ctx, old.Size, now.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, now.Size, p, old.Hash, now.Hash); err != nil {
				t.Fatalf("checkpoint of size %d not consistent with %d: %v", old.Size, now.Size, err)
			}
		}
	}

	// /log/ from the bucket, with the directory handler's names and refusals.
	srv := httptest.NewServer(http.StripPrefix("/log", b.Handler()))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/log/checkpoint", 200, "slipway.test/aws\n"},
		{"HEAD", "/log/checkpoint", 200, ""},
		{"GET", fmt.Sprintf("/log/tile/0/000.p/%d", now.Size%256), 200, ""},
		{"GET", fmt.Sprintf("/log/tile/entries/000.p/%d", now.Size%256), 200, ""},
		{"GET", "/log/tile/0/999", 404, ""},
		{"GET", "/log/.state", 404, ""},
		{"GET", "/log/tile/../checkpoint", 404, ""},
		{"PUT", "/log/checkpoint", 405, ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && !strings.Contains(string(body), tc.body)) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}

	// Reopened (a replica restarting): the old receipts still verify
	// against a new checkpoint.
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c := openAWSTest(t, cfg, keyFile)
	after, err := c.Append(ctx, testEntry(t, 99, "after", "reopen"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Index < 40 {
		t.Fatalf("the entry after the reopen got index %d, inside the old tree", after.Index)
	}
	for _, r := range receipts {
		fresh, err := c.Receipt(ctx, r.Index, r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if err := receipt.Verify(fresh, nil, c.Verifier()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenAWSRefuses: a log in a bucket without a key file, with a key
// file that does not exist, or with a checkpoint interval tessera's AWS
// driver refuses, does not open, and the error says what to do.
func TestOpenAWSRefuses(t *testing.T) {
	t.Parallel()
	cfg := AWS{Bucket: "b", DSN: "u:secret-pw@tcp(127.0.0.1:1)/db"}
	missing := filepath.Join(t.TempDir(), "nope.key")
	for _, tc := range []struct {
		name string
		cfg  AWS
		opts Options
		want string
	}{
		{"no key", cfg, Options{}, "slipway log-key --log-key FILE"},
		{"missing key", cfg, Options{KeyFile: missing}, "create it once with"},
		{"fast checkpoints", cfg, Options{KeyFile: missing, CheckpointInterval: 100e6}, "give at least 1s"},
		{"no bucket", AWS{DSN: cfg.DSN}, Options{KeyFile: missing}, "the bucket and the database are both needed"},
	} {
		_, err := OpenAWS(context.Background(), tc.cfg, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: %v; want an error with %q and without the password", tc.name, err, tc.want)
		}
	}
}
