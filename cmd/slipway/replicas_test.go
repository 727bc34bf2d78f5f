package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/mariadb"
	s3test "github.com/slipway/actions/internal/testutil/s3"
	"github.com/slipway/actions/internal/tlog"
)

// TestReplicasKilledDuringAdmissions: two real slipway serve replicas on
// one MariaDB database, one blob bucket and one log bucket (versitygw),
// admitting concurrently; one is killed with SIGKILL while admissions run
// on both. Every admission answered 201 is, after the restart, readable
// from both replicas with the same receipt; every release the database
// lists has a receipt that verifies against the log (nothing half-admitted
// is visible); the checkpoint after is consistent with the one before; the
// whole log, read through /log/, hashes to the signed root; sending every
// manifest again admits the rest.
func TestReplicasKilledDuringAdmissions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blobs, logBucket := s3test.New(t), s3test.New(t)
	dbFlags := mariadb.ServeFlags(t)
	kp, pub := policytest.NewKeypair(t)
	write(t, dir, "release.pub", string(pub))
	write(t, dir, "policy.yaml", "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: [https://hpc.example.org/pool]\n")
	if code, _, errOut := runSlipway(t, dir, "log-key", "--log-key", "log.key", "--log-origin", "slipway.test/replicas"); code != 0 {
		t.Fatalf("log-key: exit %d: %s", code, errOut)
	}
	tok := newToken(t, dir, "ci", "upload,read", dbFlags...)
	shared := append([]string{"--rate-limit", "0", "--blobs", blobs.URL(), "--log-bucket", logBucket.URL(), "--log-key", "log.key"}, dbFlags...)
	replica := func(name string) *server {
		// The S3 credentials in the environment, as for any replica.
		return startServeEnv(t, dir, blobs.Env(), append([]string{"--data", name}, shared...)...)
	}
	a, b := replica("a"), replica("b")
	replicas := []*server{a, b}

	const n = 24
	manifests := make([][]byte, n)
	for i := range n {
		rel := filepath.Join(dir, fmt.Sprint("rel", i))
		if err := os.Mkdir(rel, 0o755); err != nil {
			t.Fatal(err)
		}
		policytest.WriteRelease(t, rel, kp, fmt.Appendf(nil, "artifact %d", i), "https://hpc.example.org/pool", "git+https://github.com/acme/app")
		// An upload session lives on the replica that started it.
		manifests[i] = uploadRelease(t, replicas[i%2].url, tok, rel)
	}
	_, _, keyText := b.get(t, "/api/v1/log/key", "")
	verifier, err := note.NewVerifier(strings.TrimSpace(keyText))
	if err != nil {
		t.Fatal(err)
	}

	// Spread over a few seconds, so that the kill finds admissions of the
	// killed replica waiting for their checkpoint.
	run := admitAll(t, func(i int) string { return replicas[i%2].url }, tok, manifests, 150*time.Millisecond, 4)
	<-run.kill
	before := checkpointOf(t, b, verifier)
	a.cmd.Process.Kill() // SIGKILL, in the middle of the admissions sent to it
	<-a.done
	answered, cut := run.wait()
	if t.Failed() {
		return
	}

	a = replica("a")
	replicas = []*server{a, b}
	after := checkpointOf(t, a, verifier)
	checkConsistent(t, b, before, after)
	for id, ans := range answered {
		for i, s := range replicas {
			code, _, text := s.get(t, "/api/v1/releases/"+id+"/receipt", tok)
			if code != http.StatusOK || text != ans.Receipt {
				t.Fatalf("release %q answered 201 before the kill; replica %d after it: %d", id, i, code)
			}
		}
	}
	checkListedInLog(t, a, tok, verifier, len(answered), after.Size)
	// The whole log, as an auditor reads it through /log/.
	root, err := url.Parse(b.url + "/log/")
	if err != nil {
		t.Fatal(err)
	}
	fetcher, err := client.NewHTTPFetcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckEntries(context.Background(), fetcher.ReadEntryBundle, after.Size, after.Hash); err != nil {
		t.Fatal(err)
	}
	// Every manifest again, on the other replica.
	checkReadmitted(t, func(i int) string { return replicas[(i+1)%2].url }, tok, manifests, answered)
	checkOneEntryEach(t, b, tok, verifier)
	t.Logf("%d of %d admissions answered before SIGKILL, %d cut off by it; tree %d -> %d", len(answered), n, cut, before.Size, after.Size)
}

// checkpointOf reads and checks a replica's /log/checkpoint.
func checkpointOf(t *testing.T, s *server, v note.Verifier) *log.Checkpoint {
	t.Helper()
	code, _, text := s.get(t, "/log/checkpoint", "")
	cp, _, _, err := log.ParseCheckpoint([]byte(text), v.Name(), v)
	if code != http.StatusOK || err != nil {
		t.Fatalf("GET /log/checkpoint: %d %v", code, err)
	}
	return cp
}
