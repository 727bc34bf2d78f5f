package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// What the kill tests check after a server (or a replica) was killed with
// SIGKILL during admissions and started again.

// checkConsistent fetches the consistency proof from before to after from
// s and verifies it.
func checkConsistent(t *testing.T, s *server, before, after *log.Checkpoint) {
	t.Helper()
	if after.Size < before.Size {
		t.Fatalf("the log shrank from %d to %d entries", before.Size, after.Size)
	}
	code, _, body := s.get(t, fmt.Sprintf("/api/v1/log/consistency?from=%d&to=%d", before.Size, after.Size), "")
	var cons struct{ Hashes []string }
	if err := json.Unmarshal([]byte(body), &cons); code != http.StatusOK || err != nil {
		t.Fatalf("consistency: %d %s %v", code, body, err)
	}
	hashes := make([][]byte, len(cons.Hashes))
	for i, h := range cons.Hashes {
		hashes[i], _ = base64.StdEncoding.DecodeString(h)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, before.Size, after.Size, hashes, before.Hash, after.Hash); err != nil {
		t.Fatalf("the checkpoint after the kill (size %d) is not consistent with the one before (size %d): %v", after.Size, before.Size, err)
	}
}

// checkListedInLog: nothing half-admitted is visible. Every release s
// lists (at least answered of them) has a receipt that verifies in the
// tree of size.
func checkListedInLog(t *testing.T, s *server, tok string, v note.Verifier, answered int, size uint64) {
	t.Helper()
	code, _, list := s.get(t, "/api/v1/releases?limit=100", tok)
	var listed struct{ Releases []admitted }
	if err := json.Unmarshal([]byte(list), &listed); code != http.StatusOK || err != nil {
		t.Fatalf("listing releases after the restart: %d %v", code, err)
	}
	if len(listed.Releases) < answered {
		t.Fatalf("%d releases listed after the restart, fewer than the %d answered", len(listed.Releases), answered)
	}
	for _, a := range listed.Releases {
		rc, err := receipt.Parse([]byte(a.Receipt))
		if err != nil || receipt.Verify(rc, nil, v) != nil || rc.Index >= size {
			t.Fatalf("release %q is listed without a receipt in the log (%v)", a.ReleaseID, err)
		}
	}
}

// checkReadmitted sends every manifest again (manifest i to urlOf(i)): the
// answered ones are the same releases (200, the first receipt), the others
// are admitted now.
func checkReadmitted(t *testing.T, urlOf func(int) string, tok string, manifests [][]byte, answered map[string]admitted) {
	t.Helper()
	for i, m := range manifests {
		code, body, _, err := call("POST", urlOf(i)+"/api/v1/releases", tok, m)
		var a admitted
		if err != nil || json.Unmarshal(body, &a) != nil {
			t.Fatalf("admission %d after restart: %v %s", i, err, body)
		}
		if prev, ok := answered[a.ReleaseID]; ok && (code != http.StatusOK || prev.Receipt != a.Receipt) {
			t.Fatalf("admission %d after restart: %d, want 200 with the first receipt", i, code)
		} else if !ok && code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("admission %d after restart: %d %s", i, code, body)
		}
	}
}
