package server

import (
	"encoding/json"
	"fmt"
	"net/http"

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
// records it in the store for GET /api/v1/rejections (after the entry: a
// failure there is logged, not answered), and answers 422 with its
// receipt. Only a log that does not take the entry turns it into a 503
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
	rc, err := a.s.cfg.TLog.Append(ctx, raw)
	if err != nil {
		return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Log unavailable", RetryAfter: 1,
			Detail: "the release was refused, but the transparency log did not take the rejection; send the same manifest again", Cause: err}
	}
	a.s.log.Info("release rejected", "request_id", requestID(ctx), "release", req.id, "log_index", rc.Index, "check", c.Check, "subject", c.Subject, "identity", who)
	detail := c.Line() + fixOf(c.Check)
	a.s.recordRejection(ctx, store.Rejection{LogIndex: rc.Index, Created: e.Time, ReleaseID: req.id, ManifestDigest: req.digest.String(),
		Repository: source, Uploader: who, Check: c.Check, Subject: c.Subject, Detail: detail})
	id := requestID(ctx)
	body := checkFailedBody{
		Type: ProblemTypePrefix + "check-failed", Title: fmt.Sprintf("Release refused: check %q failed", c.Check),
		Status: http.StatusUnprocessableEntity, Detail: detail,
		RequestID: id, Check: c.Check, Subject: c.Subject, ReleaseID: req.id, LogIndex: rc.Index, Receipt: string(rc.Marshal()),
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
