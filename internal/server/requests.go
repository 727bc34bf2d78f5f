package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slipway/actions/internal/store"
)

// dispatchRequest is the body of POST
// /api/v1/releases/{id}/dispatch-requests: the job, as POST
// /api/v1/releases/{id}/dispatch takes it, and why it should run.
type dispatchRequest struct {
	Job    json.RawMessage `json:"job"`
	Reason string          `json:"reason"`
}

// requestAnswer is the JSON of a dispatch request.
type requestAnswer struct {
	RequestID  string          `json:"requestId"`
	ReleaseID  string          `json:"releaseId"`
	Job        json.RawMessage `json:"job"`
	Reason     string          `json:"reason,omitempty"`
	Requester  string          `json:"requester"`
	Created    time.Time       `json:"created"`
	State      string          `json:"state"`
	Decider    string          `json:"decider,omitempty"`
	Decided    *time.Time      `json:"decided,omitempty"`
	DispatchID string          `json:"dispatchId,omitempty"`
	Detail     string          `json:"detail,omitempty"`
}

func requestAnswerOf(q store.DispatchRequest) requestAnswer {
	a := requestAnswer{RequestID: q.ID, ReleaseID: q.ReleaseID, Job: json.RawMessage(q.Job), Reason: q.Reason, Requester: q.Requester,
		Created: q.Created.UTC(), State: q.State, Decider: q.Decider, DispatchID: q.DispatchID, Detail: q.Detail}
	if !q.Decided.IsZero() {
		t := q.Decided.UTC()
		a.Decided = &t
	}
	return a
}

var requestIDForm = regexp.MustCompile(`^q-[0-9a-f]{16}$`)

// maxReason bounds a request's reason.
const maxReason = 1024

// noSlurm is the answer of the endpoints that submit jobs on a server
// that does not.
func noSlurm() error {
	return &Problem{Status: http.StatusConflict, Type: "no-slurm", Title: "This server submits no jobs",
		Detail: "the server was started without --slurm, so it cannot run releases itself; start it with --slurm, or dispatch with slipway dispatch"}
}

// createRequest is POST /api/v1/releases/{id}/dispatch-requests: the job
// is checked now (its fields, the policy's dispatch limits) and recorded
// pending; nothing is submitted until an admin approves it (approve).
func (d *dispatches) createRequest(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if d.s.cfg.Slurm == nil {
		return noSlurm()
	}
	rel, err := d.s.release(r)
	if err != nil {
		return err
	}
	var body dispatchRequest
	if err := decodeStrict(w, r, &body); err != nil {
		return err
	}
	if len(body.Reason) > maxReason {
		return badDispatch("reason", "is %d bytes; say why in at most %d", len(body.Reason), maxReason)
	}
	var job enqueueRequest
	dec := json.NewDecoder(bytes.NewReader(body.Job))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&job); err != nil {
		return badDispatch("job", "is not the body of POST /api/v1/releases/{id}/dispatch (%v)", err)
	}
	if err := d.checkJob(rel, &job); err != nil {
		return err
	}
	var canon bytes.Buffer
	if err := json.Compact(&canon, body.Job); err != nil {
		return err
	}
	var n [8]byte
	if _, err := rand.Read(n[:]); err != nil {
		return err
	}
	_, who := callerOf(ctx)
	q := store.DispatchRequest{ID: "q-" + hex.EncodeToString(n[:]), ReleaseID: rel.ID, Job: canon.Bytes(), Requester: who, Reason: body.Reason,
		Created: d.s.now(), State: store.RequestPending}
	if err := d.s.cfg.Store.CreateDispatchRequest(ctx, q); err != nil {
		return err
	}
	d.s.log.Info("dispatch requested", "request_id", requestID(ctx), "dispatch_request", q.ID, "release", rel.ID, "identity", who)
	w.Header().Set("Location", "/api/v1/dispatch-requests/"+q.ID)
	return writeJSON(w, http.StatusAccepted, requestAnswerOf(q))
}

// request reads the dispatch request the path names.
func (d *dispatches) request(r *http.Request) (store.DispatchRequest, error) {
	id := r.PathValue("id")
	if !requestIDForm.MatchString(id) {
		return store.DispatchRequest{}, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such dispatch request",
			Detail: fmt.Sprintf("%q is not a dispatch request id (q- and 16 hex digits, as the request's answer gave)", id)}
	}
	q, err := d.s.cfg.Store.DispatchRequest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return q, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such dispatch request",
			Detail: fmt.Sprintf("dispatch request %q was not made here; check the id and the server URL", id)}
	}
	return q, err
}

// getRequest is GET /api/v1/dispatch-requests/{id}.
func (d *dispatches) getRequest(w http.ResponseWriter, r *http.Request) error {
	q, err := d.request(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, requestAnswerOf(q))
}

// requestList is the JSON of GET /api/v1/dispatch-requests.
type requestList struct {
	Requests []requestAnswer `json:"requests"`
	Next     string          `json:"next,omitempty"`
}

// listRequests is GET /api/v1/dispatch-requests?state=…: newest first,
// in keyset pages.
func (d *dispatches) listRequests(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	limit, after, err := parsePage(v, requestIDForm, "state")
	if err != nil {
		return err
	}
	state := v.Get("state")
	switch state {
	case "", store.RequestPending, store.RequestApproved, store.RequestDenied, store.RequestFailed:
	default:
		return badParam("state", fmt.Sprintf("%q is not a state", state), "give pending, approved, denied or failed")
	}
	list, err := d.s.cfg.Store.DispatchRequests(r.Context(), store.DispatchRequestQuery{State: state, After: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	out := requestList{Requests: []requestAnswer{}}
	for i, q := range list {
		if i == limit {
			out.Next = nextPage(w, r, store.Cursor{Created: list[i-1].Created, ID: list[i-1].ID})
			break
		}
		out.Requests = append(out.Requests, requestAnswerOf(q))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// decision is the optional body of approve and deny.
type decision struct {
	Comment string `json:"comment"`
}

// readDecision reads the optional body of approve and deny.
func readDecision(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.ContentLength == 0 {
		return "", nil
	}
	var d decision
	if err := decodeStrict(w, r, &d); err != nil {
		return "", err
	}
	if len(d.Comment) > maxReason {
		return "", badDispatch("comment", "is %d bytes; say it in at most %d", len(d.Comment), maxReason)
	}
	return d.Comment, nil
}

// decide claims a pending request for the request's admin identity:
// moves it to state (approved or denied). An admin may not decide their
// own request (the point is a second person), and a request decided
// before is a 409.
func (d *dispatches) decide(w http.ResponseWriter, r *http.Request, state string) (store.DispatchRequest, error) {
	ctx := r.Context()
	q, err := d.request(r)
	if err != nil {
		return q, err
	}
	comment, err := readDecision(w, r)
	if err != nil {
		return q, err
	}
	_, who := callerOf(ctx)
	if who == q.Requester {
		return q, &Problem{Status: http.StatusForbidden, Type: "self-approval", Title: "A request needs another person's decision",
			Detail: fmt.Sprintf("dispatch request %q was made by %q, the identity deciding it: another admin decides it", q.ID, who)}
	}
	to := store.DispatchRequest{State: state, Decider: who, Decided: d.s.now(), Detail: comment}
	if err := d.s.cfg.Store.DecideDispatchRequest(ctx, q.ID, store.RequestPending, to); err != nil {
		if errors.Is(err, store.ErrStateChanged) {
			now, _ := d.s.cfg.Store.DispatchRequest(ctx, q.ID)
			return q, &Problem{Status: http.StatusConflict, Type: "request-decided", Title: "Already decided",
				Detail: fmt.Sprintf("dispatch request %q is %s (by %q), no longer pending; GET it for the outcome", q.ID, now.State, now.Decider)}
		}
		return q, err
	}
	q.State, q.Decider, q.Decided, q.Detail = to.State, to.Decider, to.Decided, to.Detail
	d.s.log.Info("dispatch request "+state, "request_id", requestID(ctx), "dispatch_request", q.ID, "release", q.ReleaseID,
		"requester", q.Requester, "identity", who)
	return q, nil
}

// approve is POST /api/v1/dispatch-requests/{id}/approve (admin): the
// request is claimed, then its job checked again and submitted as POST
// /api/v1/releases/{id}/dispatch does (a dispatch-authorized entry before
// anything is submitted, then dispatch-recorded), under the approver's
// identity. A job that cannot be submitted leaves the request failed,
// with the reason.
func (d *dispatches) approve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if d.s.cfg.Slurm == nil {
		return noSlurm()
	}
	q, err := d.decide(w, r, store.RequestApproved)
	if err != nil {
		return err
	}
	rec, err := d.submitRequest(ctx, q)
	to := store.DispatchRequest{State: store.RequestApproved, Decider: q.Decider, Decided: q.Decided, Detail: q.Detail, DispatchID: rec.ID}
	if err != nil {
		to.State, to.DispatchID, to.Detail = store.RequestFailed, "", "approved, but not submitted: "+problemDetail(err)
	}
	if derr := d.s.cfg.Store.DecideDispatchRequest(context.WithoutCancel(ctx), q.ID, store.RequestApproved, to); derr != nil && err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	q.DispatchID = rec.ID
	w.Header().Set("Location", "/api/v1/dispatches/"+rec.ID)
	return writeJSON(w, http.StatusOK, requestAnswerOf(q))
}

// submitRequest checks an approved request's job again (the policy may
// have changed since) and submits it.
func (d *dispatches) submitRequest(ctx context.Context, q store.DispatchRequest) (store.Dispatch, error) {
	rel, err := d.s.cfg.Store.Release(ctx, q.ReleaseID)
	if err != nil {
		return store.Dispatch{}, err
	}
	var job enqueueRequest
	if err := json.Unmarshal(q.Job, &job); err != nil {
		return store.Dispatch{}, fmt.Errorf("reading the job of dispatch request %q: %w", q.ID, err)
	}
	if err := d.checkJob(rel, &job); err != nil {
		return store.Dispatch{}, err
	}
	return d.submit(ctx, rel, job)
}

// problemDetail is what a client may read of err: a Problem's detail, or
// nothing of an internal failure (that is in the server's log).
func problemDetail(err error) string {
	var p *Problem
	if errors.As(err, &p) {
		return p.Detail
	}
	return "an internal failure; the server's log has the cause"
}

// deny is POST /api/v1/dispatch-requests/{id}/deny (admin).
func (d *dispatches) deny(w http.ResponseWriter, r *http.Request) error {
	q, err := d.decide(w, r, store.RequestDenied)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, requestAnswerOf(q))
}

// parsePage reads limit and page_token (ids of form idForm) and refuses
// any other parameter than those and extra.
func parsePage(v url.Values, idForm *regexp.Regexp, extra ...string) (int, *store.Cursor, error) {
	for name, vals := range v {
		known := name == "limit" || name == "page_token"
		for _, e := range extra {
			known = known || name == e
		}
		if !known {
			return 0, nil, badParam(name, "is not a parameter of this endpoint", "use "+strings.Join(append([]string{"limit", "page_token"}, extra...), ", "))
		}
		if len(vals) != 1 {
			return 0, nil, badParam(name, fmt.Sprintf("is given %d times", len(vals)), "give it once")
		}
	}
	lim := url.Values{}
	if l, ok := v["limit"]; ok {
		lim["limit"] = l
	}
	q, err := parseReleaseQuery(lim)
	if err != nil {
		return 0, nil, err
	}
	if s := v.Get("page_token"); s != "" {
		c, err := parsePageTokenOf(s, idForm)
		if err != nil {
			return 0, nil, badParam("page_token", err.Error(), "give the page_token of the previous page's next link, unchanged, or none for the first page")
		}
		return q.Limit, &c, nil
	}
	return q.Limit, nil, nil
}

// nextPage is the URL of the page after c (also set as the Link header).
func nextPage(w http.ResponseWriter, r *http.Request, c store.Cursor) string {
	next := r.URL.Query()
	next.Set("page_token", pageToken(c))
	u := (&url.URL{Path: r.URL.Path, RawQuery: next.Encode()}).String()
	w.Header().Set("Link", "<"+u+`>; rel="next"`)
	return u
}
