package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// logRoutes serve the transparency log to auditors: its tiles and
// checkpoint under /log/ (C2SP tlog-tiles), its verifier key and
// consistency proofs, all public (the log is meant to be read by anyone);
// and one entry with its inclusion proof (scope read, for the dashboard).
func (s *Server) logRoutes() []Route {
	if s.cfg.TLog == nil {
		return nil
	}
	tiles := http.StripPrefix("/log", s.cfg.TLog.Handler())
	return []Route{
		{Pattern: "GET /log/", Handler: func(w http.ResponseWriter, r *http.Request) error {
			tiles.ServeHTTP(w, r)
			return nil
		}},
		{Pattern: "GET /api/v1/log/key", Handler: s.logKey},
		{Pattern: "GET /api/v1/log/consistency", Handler: s.logConsistency},
		{Pattern: "GET /api/v1/log/entries/{index}", Scope: token.Read, Handler: s.logEntry},
	}
}

// logKey answers the log's note verifier key, the line a trust policy's
// log.verifierKey holds.
func (s *Server) logKey(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := fmt.Fprintln(w, s.cfg.TLog.VerifierKey())
	return err
}

// consistencyAnswer is the JSON of GET /api/v1/log/consistency.
type consistencyAnswer struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes []string `json:"hashes"` // base64, RFC 6962 consistency proof
}

// logConsistency answers the proof that the tree of size "to" extends the
// tree of size "from" (RFC 6962 2.1.2), as base64 hashes.
func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err1 := strconv.ParseUint(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseUint(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-request", Title: "Bad tree sizes",
			Detail: fmt.Sprintf("from %q and to %q must be tree sizes (whole numbers, from <= to); take them from two checkpoints", q.Get("from"), q.Get("to"))}
	}
	hashes, err := s.cfg.TLog.ConsistencyProof(r.Context(), from, to)
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-request", Title: "No such consistency proof", Detail: err.Error(), Cause: err}
	}
	ans := consistencyAnswer{From: from, To: to, Hashes: make([]string, len(hashes))}
	for i, h := range hashes {
		ans.Hashes[i] = base64.StdEncoding.EncodeToString(h)
	}
	return writeJSON(w, http.StatusOK, ans)
}

// logEntryAnswer is the JSON of GET /api/v1/log/entries/{index}: the entry
// as logged and its inclusion proof against the latest checkpoint, both
// as fields and as one receipt.
type logEntryAnswer struct {
	Index uint64 `json:"index"`
	// Kind is the entry's kind (release-admitted, release-rejected, …).
	Kind string `json:"kind"`
	// Entry is the entry's JSON; EntryBase64 its exact bytes, whose RFC
	// 6962 leaf hash the proof starts from.
	Entry       json.RawMessage `json:"entry"`
	EntryBase64 string          `json:"entryBase64"`
	// TreeSize and RootHash (base64) are the checkpoint's, Checkpoint the
	// signed note itself; Hashes the inclusion proof (base64, the leaf's
	// sibling first).
	TreeSize   uint64   `json:"treeSize"`
	RootHash   string   `json:"rootHash"`
	Checkpoint string   `json:"checkpoint"`
	Hashes     []string `json:"hashes"`
	// Receipt is all of it as a C2SP tlog-proof, as admission answers.
	Receipt string `json:"receipt"`
}

// logEntry is GET /api/v1/log/entries/{index}: the entry at index read
// from the log itself, with its inclusion proof against the latest
// checkpoint (checked before it is answered).
func (s *Server) logEntry(w http.ResponseWriter, r *http.Request) error {
	raw := r.PathValue("index")
	index, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || (len(raw) > 1 && raw[0] == '0') {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-parameter", Title: "Bad log index", Check: "index",
			Detail: fmt.Sprintf("log index %q is not a whole number; give a logIndex of a release, a rejection or a receipt", truncate(raw, 32))}
	}
	rc, err := s.cfg.TLog.Entry(r.Context(), index)
	if errors.Is(err, tlog.ErrNotLogged) {
		return &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such log entry", Detail: err.Error()}
	}
	if err != nil {
		return err
	}
	cp, err := rc.Tree(s.cfg.TLog.Verifier())
	if err != nil {
		return fmt.Errorf("reading the checkpoint of log entry %d: %w", index, err)
	}
	ans := logEntryAnswer{Index: index, EntryBase64: base64.StdEncoding.EncodeToString(rc.Entry), TreeSize: cp.Size,
		RootHash: base64.StdEncoding.EncodeToString(cp.Hash), Checkpoint: string(rc.Checkpoint), Hashes: make([]string, len(rc.Hashes)),
		Receipt: string(rc.Marshal())}
	for i, h := range rc.Hashes {
		ans.Hashes[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	if e, err := entry.Parse(rc.Entry); err == nil {
		ans.Kind = string(e.Kind)
	}
	if json.Valid(rc.Entry) {
		ans.Entry = rc.Entry
	} else {
		ans.Entry = json.RawMessage("null")
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, ans)
}
