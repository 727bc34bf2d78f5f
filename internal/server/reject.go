package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/verify"
)

// checkFailedBody is the problem+json of a refused release (422): the
// problem fields, the failed check, and the receipt of the
// release-rejected entry the log holds for it.
type checkFailedBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Check     string `json:"check"`
	Subject   string `json:"subject"`
	ReleaseID string `json:"releaseId"`
	LogIndex  uint64 `json:"logIndex"`
	Receipt   string `json:"receipt"`
}

// reject logs a release-rejected entry for req naming the failed check,
// records it in the store for GET /api/v1/rejections, and answers 422 with
// its receipt. The rejection's intent is written first (intents.go): a
// failure to record the row after the entry is logged, not answered (the
// intent stays pending, and the same manifest sent again or the next start
// records it). Only a log that does not take the entry turns it into a 503
// (the client sends the manifest again).
func (a *admitter) reject(w http.ResponseWriter, r *http.Request, req *releaseRequest, who, source string, c verify.Check) error {
	ctx := r.Context()
	e := releaseEntry(req, req.manifest, who, source, a.s.now())
	e.Kind, e.Decision, e.Check = entry.KindReleaseRejected, entry.DecisionRejected, c.Check
	raw, err := entry.Marshal(e)
	if err != nil {
		// Too many records for one entry: the decision is what matters.
		e.Evidence, e.Artifacts = nil, nil
		if raw, err = entry.Marshal(e); err != nil {
			return err
		}
	}
	if n, err := policy.ParseRepository(source); err == nil {
		source = n
	}
	rej := store.Rejection{Created: e.Time, ReleaseID: req.id, ManifestDigest: req.digest.String(),
		Repository: source, Uploader: who, Check: c.Check, Subject: c.Subject, Detail: c.Line() + fixOf(c.Check)}
	rc, err := a.s.appendIntent(ctx, store.IntentRejection, rej.ManifestDigest, raw, rej)
	if err != nil {
		return err
	}
	rej.LogIndex = rc.Index
	a.s.log.Info("release rejected", "request_id", requestID(ctx), "release", req.id, "log_index", rc.Index, "check", c.Check, "subject", c.Subject, "identity", who)
	a.s.recordRejection(ctx, rej)
	return refused(w, r, rej, rc.Marshal())
}

// refused answers 422 for rej, whose release-rejected entry has the
// receipt rc (tlog-proof text).
func refused(w http.ResponseWriter, r *http.Request, rej store.Rejection, rc []byte) error {
	id := requestID(r.Context())
	body := checkFailedBody{
		Type: ProblemTypePrefix + "check-failed", Title: fmt.Sprintf("Release refused: check %q failed", rej.Check),
		Status: http.StatusUnprocessableEntity, Detail: rej.Detail,
		RequestID: id, Check: rej.Check, Subject: rej.Subject, ReleaseID: rej.ReleaseID, LogIndex: rej.LogIndex, Receipt: string(rc),
	}
	if id != "" {
		body.Instance = "urn:slipway:request:" + id
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnprocessableEntity)
	return json.NewEncoder(w).Encode(body)
}

// fixOf says how to fix a failed check, where the check's own message
// may not.
func fixOf(check string) string {
	switch check {
	case verify.CheckDigest:
		return " (upload the files the build wrote, unchanged)"
	case verify.CheckSignature, verify.CheckBundle:
		return " (sign with a key or identity the server's policy trusts)"
	case verify.CheckBuilder, verify.CheckSource, verify.CheckProvenance:
		return " (build and attest in a builder and repository the server's policy allows)"
	case CheckUploader:
		return " (ask the server's operator for an uploader rule, docs/policy.md)"
	case CheckInputs:
		return " (dispatch releases this server admitted, and upload the outputs manifest slipway dispatch wrote, unchanged)"
	case CheckReference:
		return " (push the image and its signatures to the registry, and give the server pull access)"
	}
	return ""
}
