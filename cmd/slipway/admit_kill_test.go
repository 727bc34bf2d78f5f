package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/mariadb"
	"github.com/slipway/actions/internal/tlog/receipt"
)

// call sends one request to the server and returns status and body; err
// when the server is gone.
func call(method, url, tok string, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// uploadRelease uploads the files of the manifest in dir (one chunk each)
// and returns the manifest.
func uploadRelease(t *testing.T, url, tok, dir string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Records {
		content, err := os.ReadFile(filepath.Join(dir, r.Path))
		if err != nil {
			t.Fatal(err)
		}
		code, body, hdr, err := call("POST", url+"/v2/slipway/blobs/uploads/", tok, nil)
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("POST upload: %d %s %v", code, body, err)
		}
		if code, body, _, err = call("PUT", url+hdr.Get("Location")+"?digest="+r.Digest.String(), tok, content); err != nil || code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s %v", r.Path, code, body, err)
		}
	}
	return raw
}

type admitted struct {
	ReleaseID string `json:"releaseId"`
	Receipt   string `json:"receipt"`
}

// TestServeKilledDuringAdmissions: the real server, killed with SIGKILL
// while 20 admissions run, loses none it answered: after a restart each is
// readable with the same receipt, the new checkpoint is consistent with the
// one read before the kill, and sending every manifest again admits the
// rest. On each database: the embedded SQLite, and MariaDB (--database).
func TestServeKilledDuringAdmissions(t *testing.T) {
	t.Parallel()
	for _, db := range []struct {
		name  string
		flags func(testing.TB) []string
	}{
		{"sqlite", func(testing.TB) []string { return nil }},
		{"mariadb", mariadb.ServeFlags},
	} {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			testServeKilledDuringAdmissions(t, db.flags(t))
		})
	}
}

func testServeKilledDuringAdmissions(t *testing.T, dbFlags []string) {
	dir := t.TempDir()
	kp, pub := policytest.NewKeypair(t)
	write(t, dir, "release.pub", string(pub))
	write(t, dir, "policy.yaml", "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: [https://hpc.example.org/pool]\n")
	tok := newToken(t, dir, "ci", "upload,read", dbFlags...)
	srv := startServe(t, dir, append([]string{"--rate-limit", "0"}, dbFlags...)...)

	const n = 20
	manifests := make([][]byte, n)
	for i := range n {
		rel := filepath.Join(dir, fmt.Sprint("rel", i))
		if err := os.Mkdir(rel, 0o755); err != nil {
			t.Fatal(err)
		}
		policytest.WriteRelease(t, rel, kp, fmt.Appendf(nil, "artifact %d", i), "https://hpc.example.org/pool", "git+https://github.com/acme/app")
		manifests[i] = uploadRelease(t, srv.url, tok, rel)
	}
	_, _, keyText := srv.get(t, "/api/v1/log/key", "")
	verifier, err := note.NewVerifier(strings.TrimSpace(keyText))
	if err != nil {
		t.Fatal(err)
	}

	var before *log.Checkpoint
	run := admitAll(t, func(int) string { return srv.url }, tok, manifests, 0, 5)
	<-run.kill
	if code, _, cp := srv.get(t, "/log/checkpoint", ""); code == http.StatusOK {
		before, _, _, _ = log.ParseCheckpoint([]byte(cp), verifier.Name(), verifier)
	}
	srv.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	<-srv.done
	answered, _ := run.wait()
	if before == nil {
		t.Fatal("no checkpoint read before the kill")
	}

	srv = startServe(t, dir, append([]string{"--rate-limit", "0"}, dbFlags...)...)
	code, _, cpText := srv.get(t, "/log/checkpoint", "")
	after, _, _, err := log.ParseCheckpoint([]byte(cpText), verifier.Name(), verifier)
	if code != http.StatusOK || err != nil {
		t.Fatalf("checkpoint after restart: %d %v", code, err)
	}
	checkConsistent(t, srv, before, after)
	for id, a := range answered {
		code, _, text := srv.get(t, "/api/v1/releases/"+id+"/receipt", tok)
		if code != http.StatusOK || text != a.Receipt {
			t.Fatalf("release %q answered 201 before the kill, after it: %d", id, code)
		}
		rc, err := receipt.Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if err := receipt.Verify(rc, nil, verifier); err != nil || rc.Index >= after.Size {
			t.Fatalf("receipt of %q: %v (index %d, tree %d)", id, err, rc.Index, after.Size)
		}
	}
	// Nothing half-admitted: every release the server lists has a receipt
	// that verifies in the tree after the restart.
	checkListedInLog(t, srv, tok, verifier, len(answered), after.Size)
	// Every manifest again: the answered ones are the same releases, the
	// others are admitted now.
	checkReadmitted(t, func(int) string { return srv.url }, tok, manifests, answered)
	checkOneEntryEach(t, srv, tok, verifier)
	t.Logf("%d of %d admissions answered before SIGKILL; tree %d -> %d", len(answered), n, before.Size, after.Size)
}
