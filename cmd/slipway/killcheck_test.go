package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

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

// admissions are manifests sent at once until a server is killed.
type admissions struct {
	mu       sync.Mutex
	answered map[string]admitted // 201 answers, by release id
	cut      int                 // requests cut off (by the kill)
	kill     chan struct{}       // closed once killAfter admissions were answered
	wg       sync.WaitGroup
}

// admitAll sends manifests[i] to urlOf(i), each on its own goroutine, the
// i-th after i*spread. Any answer but 201 (or a cut connection) fails t.
// The caller waits for a.kill, kills a server, then calls a.wait.
func admitAll(t *testing.T, urlOf func(int) string, tok string, manifests [][]byte, spread time.Duration, killAfter int) *admissions {
	a := &admissions{answered: map[string]admitted{}, kill: make(chan struct{})}
	var once sync.Once
	for i := range manifests {
		a.wg.Go(func() {
			time.Sleep(time.Duration(i) * spread)
			code, body, _, err := call("POST", urlOf(i)+"/api/v1/releases", tok, manifests[i])
			if err != nil {
				a.mu.Lock()
				a.cut++
				a.mu.Unlock()
				return
			}
			if code != http.StatusCreated {
				t.Errorf("admission %d at %s: %d %s", i, urlOf(i), code, body)
				return
			}
			var ans admitted
			if err := json.Unmarshal(body, &ans); err != nil {
				t.Error(err)
				return
			}
			a.mu.Lock()
			a.answered[ans.ReleaseID] = ans
			if len(a.answered) >= killAfter {
				once.Do(func() { close(a.kill) })
			}
			a.mu.Unlock()
		})
	}
	return a
}

// wait waits for every request to end and returns the 201 answers and how
// many were cut off.
func (a *admissions) wait() (map[string]admitted, int) {
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.answered, a.cut
}

// checkOneEntryEach: every release-admitted entry in s's log is recorded
// (its release answers that entry's index) and no release was admitted
// twice: an admission killed after its append and before its row is
// finished with that entry (at the restart, or when it is sent again),
// never logged a second time.
func checkOneEntryEach(t *testing.T, s *server, tok string, v note.Verifier) {
	t.Helper()
	code, _, cpText := s.get(t, "/log/checkpoint", "")
	cp, _, _, err := log.ParseCheckpoint([]byte(cpText), v.Name(), v)
	if code != http.StatusOK || err != nil {
		t.Fatalf("checkpoint: %d %v", code, err)
	}
	admittedAt := map[string][]uint64{}
	for i := range cp.Size {
		code, _, body := s.get(t, fmt.Sprintf("/api/v1/log/entries/%d", i), tok)
		var e struct {
			Kind  string
			Entry struct{ Release string }
		}
		if err := json.Unmarshal([]byte(body), &e); code != http.StatusOK || err != nil {
			t.Fatalf("log entry %d: %d %v", i, code, err)
		}
		if e.Kind == "release-admitted" {
			admittedAt[e.Entry.Release] = append(admittedAt[e.Entry.Release], i)
		}
	}
	for id, at := range admittedAt {
		if len(at) != 1 {
			t.Errorf("release %q has %d release-admitted entries (indices %v), want one", id, len(at), at)
			continue
		}
		code, _, body := s.get(t, "/api/v1/releases/"+id, tok)
		var rel struct{ LogIndex uint64 }
		if err := json.Unmarshal([]byte(body), &rel); code != http.StatusOK || err != nil || rel.LogIndex != at[0] {
			t.Errorf("release %q, admitted at log index %d: GET answers %d %s", id, at[0], code, body)
		}
	}
}
