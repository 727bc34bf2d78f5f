package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
)

// logRoutes serve the transparency log to auditors: its tiles and
// checkpoint under /log/ (C2SP tlog-tiles), its verifier key and
// consistency proofs. All public: the log is meant to be read by anyone.
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
