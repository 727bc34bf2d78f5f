package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
)

// openLog opens a log in a temporary directory, closed at cleanup.
func openLog(t *testing.T, dir string) *tlog.Log {
	t.Helper()
	l, err := tlog.Open(context.Background(), filepath.Join(dir, "log"), tlog.Options{Origin: "test.example/log"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

func testEntry(t *testing.T, release string) []byte {
	t.Helper()
	raw, err := entry.Marshal(entry.Entry{Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted, Release: release,
		Uploader: "token:ci/x", Time: time.Now(), Artifacts: []entry.Subject{{Name: "a", SHA256: strings.Repeat("a", 64)}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestLogRoutes(t *testing.T) {
	t.Parallel()
	tl := openLog(t, t.TempDir())
	h := start(t, Config{TLog: tl})
	ctx := context.Background()
	if _, err := tl.Append(ctx, testEntry(t, "r-1")); err != nil {
		t.Fatal(err)
	}
	cp1, err := tl.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := tl.Append(ctx, testEntry(t, fmt.Sprint("r-", i+2))); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := send(t, "GET", h.url+"/api/v1/log/key", "", nil, nil)
	want(t, resp, body, http.StatusOK, "", "")
	if strings.TrimSpace(body) != tl.VerifierKey() {
		t.Fatalf("key = %q, want %q", body, tl.VerifierKey())
	}
	resp, body = send(t, "GET", h.url+"/log/checkpoint", "", nil, nil)
	want(t, resp, body, http.StatusOK, "", "")
	cp2, _, _, err := log.ParseCheckpoint([]byte(body), tl.Origin(), tl.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	old, _, _, err := log.ParseCheckpoint(cp1, tl.Origin(), tl.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	resp, body = send(t, "GET", fmt.Sprintf("%s/api/v1/log/consistency?from=%d&to=%d", h.url, old.Size, cp2.Size), "", nil, nil)
	want(t, resp, body, http.StatusOK, "", "")
	var ans consistencyAnswer
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		t.Fatal(err)
	}
	hashes := make([][]byte, len(ans.Hashes))
	for i, s := range ans.Hashes {
		if hashes[i], err = base64.StdEncoding.DecodeString(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cp2.Size, hashes, old.Hash, cp2.Hash); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
	for _, q := range []string{"from=2&to=1", "from=x&to=1", "from=0&to=99"} {
		resp, body = send(t, "GET", h.url+"/api/v1/log/consistency?"+q, "", nil, nil)
		want(t, resp, body, http.StatusBadRequest, "Content-Type", "application/problem+json")
	}
	for _, p := range []string{"/log/../log.key", "/log/.state/treeState", "/log/"} {
		resp, body = send(t, "GET", h.url+p, "", nil, nil)
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("GET %s = 200 %q: only tiles and the checkpoint are public", p, body)
		}
	}
}
