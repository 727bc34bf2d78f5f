package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/token"
)

// TestLogEntry: an admission's and a refusal's log entries read back by
// index are the bytes their receipts carry, with an inclusion proof that
// verifies against the signed latest checkpoint (as fields and as a
// receipt); an index past the log is 404, a malformed one 400.
func TestLogEntry(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), refusing))
	up := site.token(t, "ci", token.Upload)
	refused := refuse(t, s, site, up, "app 1", testBuilder, testSource)
	dir := t.TempDir()
	s.release(t, dir, []byte("app ok"), testBuilder, testSource)
	policytest.AddAttestation(t, dir, "manifest.json", s.kp, "app.bin.test-result.sigstore.json", policy.TestResultV01,
		policytest.TestResult("PASSED", "example.com/app/TestRun"))
	code, admitted := admit(t, site.url, up, uploadAll(t, site.url, up, dir))
	if code != http.StatusCreated {
		t.Fatalf("admission: %d %+v", code, admitted)
	}
	reader := site.token(t, "reader", token.Read)
	var size uint64
	for _, a := range []struct {
		kind string
		ans  admission
	}{{"release-rejected", refused}, {"release-admitted", admitted}} {
		code, body, _ := do(t, "GET", fmt.Sprintf("%s/api/v1/log/entries/%d", site.url, a.ans.LogIndex), reader, nil)
		var got struct {
			Index                                      uint64
			Kind                                       string
			Entry                                      json.RawMessage
			EntryBase64, RootHash, Checkpoint, Receipt string
			TreeSize                                   uint64
			Hashes                                     []string
		}
		if code != http.StatusOK || json.Unmarshal(body, &got) != nil {
			t.Fatalf("entry %d: %d %s", a.ans.LogIndex, code, body)
		}
		first := checkReceipt(t, site.tl.VerifierKey(), a.ans.Receipt)
		raw, _ := base64.StdEncoding.DecodeString(got.EntryBase64)
		if got.Index != a.ans.LogIndex || got.Kind != a.kind || !bytes.Equal(raw, first.Entry) || !json.Valid(got.Entry) {
			t.Errorf("entry %d: %s, want the bytes of its receipt", a.ans.LogIndex, body)
		}
		cp, _, _, err := log.ParseCheckpoint([]byte(got.Checkpoint), site.tl.Origin(), site.tl.Verifier())
		if err != nil || cp.Size != got.TreeSize || base64.StdEncoding.EncodeToString(cp.Hash) != got.RootHash {
			t.Fatalf("checkpoint %q: %v", got.Checkpoint, err)
		}
		hashes := make([][]byte, len(got.Hashes))
		for i, h := range got.Hashes {
			hashes[i], _ = base64.StdEncoding.DecodeString(h)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, got.Index, got.TreeSize, rfc6962.DefaultHasher.HashLeaf(raw), hashes, cp.Hash); err != nil {
			t.Errorf("entry %d: the proof does not verify: %v", got.Index, err)
		}
		rc := checkReceipt(t, site.tl.VerifierKey(), got.Receipt)
		if err := receipt.Verify(rc, first.Entry, site.tl.Verifier()); err != nil || rc.Index != got.Index {
			t.Errorf("entry %d: its receipt: %v", got.Index, err)
		}
		size = max(size, got.TreeSize)
	}
	for _, c := range []struct {
		index string
		tok   string
		want  int
	}{
		{fmt.Sprint(size), reader, http.StatusNotFound},
		{"18446744073709551615", reader, http.StatusNotFound},
		{"18446744073709551616", reader, http.StatusBadRequest},
		{"x", reader, http.StatusBadRequest},
		{"01", reader, http.StatusBadRequest},
		{"-1", reader, http.StatusBadRequest},
		{"0", up, http.StatusForbidden},
		{"0", "", http.StatusUnauthorized},
	} {
		if code, body, _ := do(t, "GET", site.url+"/api/v1/log/entries/"+c.index, c.tok, nil); code != c.want {
			t.Errorf("entry %q: %d %s, want %d", c.index, code, body, c.want)
		}
	}
}
