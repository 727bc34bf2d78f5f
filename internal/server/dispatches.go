package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/slurm/follow"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// maxDispatchBody bounds the body of a dispatch request.
const maxDispatchBody = 64 << 10

// dispatchRoutes record dispatches of admitted releases and read them
// back; with Config.Slurm the server also submits them (enqueue.go).
func (s *Server) dispatchRoutes() []Route {
	if s.cfg.TLog == nil || s.cfg.Policy == nil {
		return nil
	}
	d := &dispatches{s: s, inflight: newInflight[string]()}
	s.dispatches = d
	routes := []Route{
		{Pattern: "POST /api/v1/releases/{id}/dispatch-authorizations", Scope: token.Dispatch, OIDC: true, Handler: d.authorize},
		{Pattern: "POST /api/v1/releases/{id}/dispatches", Scope: token.Dispatch, OIDC: true, Handler: d.record},
		{Pattern: "GET /api/v1/dispatches/{id}", Scope: token.Read, Handler: d.get},
		// jobs.go, requests.go: listing, output, cancelling; requests that wait for an admin's approval.
		{Pattern: "GET /api/v1/dispatches", Scope: token.Read, Handler: d.listDispatches},
		{Pattern: "GET /api/v1/dispatches/{id}/log", Scope: token.Read, Handler: d.jobLog},
		{Pattern: "POST /api/v1/dispatches/{id}/cancel", Scope: token.Dispatch, Handler: d.cancelJob},
		{Pattern: "POST /api/v1/releases/{id}/dispatch-requests", Scope: token.Dispatch, Handler: d.createRequest},
		{Pattern: "GET /api/v1/dispatch-requests", Scope: token.Read, Handler: d.listRequests},
		{Pattern: "GET /api/v1/dispatch-requests/{id}", Scope: token.Read, Handler: d.getRequest},
		{Pattern: "POST /api/v1/dispatch-requests/{id}/approve", Scope: token.Admin, Handler: d.approve},
		{Pattern: "POST /api/v1/dispatch-requests/{id}/deny", Scope: token.Admin, Handler: d.deny},
	}
	if sc := s.cfg.Slurm; sc != nil && s.cfg.Blobs != nil {
		if sc.Follower == nil {
			sc.Follower = follow.New(sc.Backend, follow.Options{Logger: s.log})
		}
		routes = append(routes, Route{Pattern: "POST /api/v1/releases/{id}/dispatch", Scope: token.Dispatch, Handler: d.enqueue})
	}
	return routes
}

// follower is the server's one Follower of the jobs it submitted.
func (d *dispatches) follower() *follow.Follower { return d.s.cfg.Slurm.Follower }

// dispatches serves the dispatch endpoints; one per server.
type dispatches struct {
	s        *Server
	inflight *inflight[string] // one recording per dispatch or authorization id at a time
}

// recordRequest is the body of POST /api/v1/releases/{id}/dispatches:
// the job submitted under the authorization AuthorizationID, for the job
// spec of Fingerprint.
type recordRequest struct {
	JobID           string `json:"jobId"`
	Cluster         string `json:"cluster"`
	Partition       string `json:"partition"`
	RunID           string `json:"runId"`
	BuilderID       string `json:"builderId"`
	AuthorizationID string `json:"authorizationId"`
	Fingerprint     string `json:"fingerprint"`
}

// dispatchAnswer is the JSON of a dispatch (201, 200, 202, GET).
type dispatchAnswer struct {
	DispatchID string `json:"dispatchId"`
	// AuthorizationID is the authorization the job was submitted under;
	// empty for a dispatch recorded before authorizations existed.
	AuthorizationID string     `json:"authorizationId,omitempty"`
	ReleaseID       string     `json:"releaseId"`
	JobID           string     `json:"jobId"`
	RunID           string     `json:"runId"`
	Cluster         string     `json:"cluster,omitempty"`
	Partition       string     `json:"partition,omitempty"`
	BuilderID       string     `json:"builderId,omitempty"`
	Requester       string     `json:"requester"`
	Created         time.Time  `json:"created"`
	LogIndex        uint64     `json:"logIndex"`
	Receipt         string     `json:"receipt"`
	Submitted       bool       `json:"submitted"`
	State           string     `json:"state,omitempty"`
	Node            string     `json:"node,omitempty"`
	ExitCode        *int       `json:"exitCode,omitempty"`
	Started         *time.Time `json:"started,omitempty"`
	Ended           *time.Time `json:"ended,omitempty"`
	Elapsed         string     `json:"elapsed,omitempty"`
}

func dispatchAnswerOf(d store.Dispatch, now time.Time) dispatchAnswer {
	a := dispatchAnswer{DispatchID: d.ID, ReleaseID: d.ReleaseID, JobID: d.JobID, RunID: d.RunID, Cluster: d.Cluster,
		Partition: d.Partition, BuilderID: d.BuilderID, Requester: d.Requester, Created: d.Created.UTC(), LogIndex: d.LogIndex,
		Receipt: string(d.Receipt), Submitted: d.Submitted, State: d.State.State, Node: d.State.Node}
	if e, err := entry.Parse(d.LogEntry); err == nil && e.Dispatch != nil {
		a.AuthorizationID = e.Dispatch.Authorization
	}
	if d.State.ExitCode >= 0 && d.State.State != "" {
		code := d.State.ExitCode
		a.ExitCode = &code
	}
	if st := d.State.Started; !st.IsZero() {
		st = st.UTC()
		a.Started = &st
		end := now
		if !d.State.Ended.IsZero() {
			e := d.State.Ended.UTC()
			a.Ended, end = &e, e
		}
		a.Elapsed = end.Sub(st).Round(time.Second).String()
	}
	return a
}

var (
	dispatchIDForm = lazyregexp.New(`^d-[0-9a-f]{16}$`)
	slurmJobID     = lazyregexp.New(`^[1-9][0-9]{0,9}$`)
	runIDForm      = lazyregexp.New(`^[A-Za-z0-9._:=/-]{1,255}$`)
	// slurmName is a cluster's or partition's name: what Slurm accepts,
	// narrowed to a charset that needs no quoting anywhere.
	slurmName = lazyregexp.New(`^[A-Za-z0-9._-]{0,64}$`)
)

// dispatchID is the id of the dispatch of release as job jobID by run
// runID: recording the same dispatch again finds it.
func dispatchID(release, runID, jobID string) string {
	sum := sha256.Sum256([]byte(release + "\n" + runID + "\n" + jobID))
	return "d-" + hex.EncodeToString(sum[:8])
}

// parseRecord reads and checks a record request's body.
func parseRecord(w http.ResponseWriter, r *http.Request) (recordRequest, error) {
	var req recordRequest
	if err := decodeStrict(w, r, &req); err != nil {
		return req, err
	}
	switch {
	case !slurmJobID.MatchString(req.JobID):
		return req, badDispatch("jobId", "is %q; give Slurm's job id as a decimal string (\"4711\")", req.JobID)
	case !entry.AuthorizationID.MatchString(req.AuthorizationID):
		return req, badDispatch("authorizationId", "is %q; give the authorization id (a- and 16 hex digits) POST /api/v1/releases/{id}/dispatch-authorizations answered before the job was submitted", req.AuthorizationID)
	}
	return req, checkJobFields(req.RunID, req.Fingerprint, req.Cluster, req.Partition, req.BuilderID)
}

// decodeStrict reads a small JSON object body into v, refusing unknown
// fields and trailing data.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeBody(w, r, v, maxDispatchBody, "bad-dispatch", "Not a dispatch request")
}

// decodeBody reads the body of r, at most limit bytes, into v: one JSON
// object of v's fields, nothing after it; else a 400 of the problem type
// typ with title.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, limit int64, typ, title string) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("data after the JSON object")
	}
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: typ, Title: title,
			Detail: fmt.Sprintf("the body is not one JSON object of the documented fields (%v); see GET /api/v1/openapi.json", err)}
	}
	return nil
}

// record is POST /api/v1/releases/{id}/dispatches: a dispatcher records
// that it submitted an admitted release as a Slurm job, under the
// authorization it was given before (of this release and run, to this
// identity, for this job spec, cluster, partition and builder id; 403
// not-authorized otherwise). The same record again answers 200 with the
// first answer; a dispatch-recorded entry is logged once.
func (d *dispatches) record(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rel, err := d.s.release(r)
	if err != nil {
		return err
	}
	req, err := parseRecord(w, r)
	if err != nil {
		return err
	}
	if err := d.allowed(ctx, rel); err != nil {
		return err
	}
	auth, err := d.authorized(ctx, rel, req)
	if err != nil {
		return err
	}
	rec := store.Dispatch{ID: dispatchID(rel.ID, req.RunID, req.JobID), ReleaseID: rel.ID, RunID: req.RunID, JobID: req.JobID,
		Cluster: req.Cluster, Partition: req.Partition, BuilderID: req.BuilderID, State: store.DispatchState{ExitCode: -1}}
	done, err := d.inflight.begin(ctx, rec.ID)
	if err != nil {
		return err
	}
	defer done()
	if first, err := d.s.cfg.Store.Dispatch(ctx, rec.ID); err == nil {
		return d.again(w, first, rec)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Logged by a request that failed before recording it: finished.
	if f, err := d.s.pendingIntent(ctx, rec.ID); err != nil {
		return err
	} else if f != nil {
		return d.again(w, f.dispatch, rec)
	}
	if err := ConsumeOIDC(ctx); err != nil {
		return err
	}
	rec, err = d.log(ctx, rel, rec, auth)
	if err != nil {
		return err
	}
	if err := d.s.cfg.Store.CreateDispatch(context.WithoutCancel(ctx), rec); err != nil {
		if errors.Is(err, store.ErrExists) { // a stale intent of it finished by another replica
			if first, err := d.s.cfg.Store.Dispatch(ctx, rec.ID); err == nil {
				d.s.recorded(rec.ID)
				return d.again(w, first, rec)
			}
		}
		return err // the intent stays pending: the same record again finishes it
	}
	d.s.recorded(rec.ID)
	d.s.log.Info("dispatch recorded", "request_id", requestID(ctx), "dispatch", rec.ID, "release", rel.ID, "job_id", rec.JobID,
		"cluster", rec.Cluster, "log_index", rec.LogIndex, "identity", rec.Requester)
	w.Header().Set("Location", "/api/v1/dispatches/"+rec.ID)
	return writeJSON(w, http.StatusCreated, dispatchAnswerOf(rec, d.s.now()))
}

// again answers a dispatch recorded before: 200 with the first answer
// when the request says the same, 409 when it names the same job of the
// same run with other values.
func (d *dispatches) again(w http.ResponseWriter, first, req store.Dispatch) error {
	if first.Cluster != req.Cluster || first.Partition != req.Partition || first.BuilderID != req.BuilderID {
		return &Problem{Status: http.StatusConflict, Type: "dispatch-conflict", Title: "Dispatch recorded with other values",
			Detail: fmt.Sprintf("job %s of run %q was recorded for release %q as dispatch %q with cluster %q, partition %q and builder id %q; a record cannot change: send the same values",
				first.JobID, first.RunID, first.ReleaseID, first.ID, first.Cluster, first.Partition, first.BuilderID)}
	}
	return writeJSON(w, http.StatusOK, dispatchAnswerOf(first, d.s.now()))
}

// allowed decides whether the request's identity may dispatch rel. A
// service token needs the dispatch scope (the route checked it). An OIDC
// identity holds no dispatch scope: it may record a dispatch of a release
// when the policy's uploader rules let it publish the release's source
// repository (the job that built a repository runs its releases).
func (d *dispatches) allowed(ctx context.Context, rel store.Release) error {
	id, _ := IdentityFrom(ctx)
	if id.OIDC == nil {
		return nil
	}
	dec := d.s.cfg.Policy.AllowUpload(id.Caller(), rel.SourceRepository)
	if !dec.Allowed {
		return &Problem{Status: http.StatusForbidden, Type: "forbidden", Title: "Not allowed to dispatch this release",
			Detail: fmt.Sprintf("an OIDC identity may record dispatches of the releases the policy's uploader rules let it publish: %s", dec.Reason)}
	}
	return nil
}

// log appends rec's dispatch-recorded entry, naming the authorization
// auth it was submitted under, and returns rec with its requester, time,
// entry and receipt.
func (d *dispatches) log(ctx context.Context, rel store.Release, rec store.Dispatch, auth store.DispatchAuthorization) (store.Dispatch, error) {
	_, who := callerOf(ctx)
	rec.Requester, rec.Created = who, d.s.now()
	raw, err := entryAbout(rel, entry.Entry{Kind: entry.KindDispatchRecorded, Decision: entry.DecisionRecorded, Uploader: who,
		Time: rec.Created, Dispatch: &entry.Dispatch{ID: rec.ID, JobID: rec.JobID, RunID: rec.RunID, Cluster: rec.Cluster,
			Partition: rec.Partition, BuilderID: rec.BuilderID, Authorization: auth.ID, Fingerprint: auth.Fingerprint}})
	if err != nil {
		return rec, err
	}
	// The intent first: the caller's CreateDispatch removes it (intents.go).
	rc, err := d.s.appendIntent(ctx, store.IntentDispatch, rec.ID, raw, rec)
	if err != nil {
		return rec, err
	}
	rec.LogIndex, rec.LogEntry, rec.Receipt = rc.Index, raw, rc.Marshal()
	return rec, nil
}

// entryAbout returns the canonical bytes of e, a dispatch entry about rel
// (its release, source and artifacts filled in here).
func entryAbout(rel store.Release, e entry.Entry) ([]byte, error) {
	e.Release, e.Source = rel.ID, rel.SourceRepository
	for _, a := range rel.Artifacts {
		e.Artifacts = append(e.Artifacts, entry.Subject{Name: a.Name, SHA256: strings.TrimPrefix(a.Digest, "sha256:")})
	}
	raw, err := entry.Marshal(e)
	if err != nil {
		return nil, &Problem{Status: http.StatusBadRequest, Type: "bad-dispatch", Title: "Not a dispatch request", Detail: err.Error()}
	}
	return raw, nil
}

// get is GET /api/v1/dispatches/{id}: the dispatch and its job's latest
// known state.
func (d *dispatches) get(w http.ResponseWriter, r *http.Request) error {
	rec, err := d.dispatch(r)
	if err != nil {
		return err
	}
	if rec.Submitted && !rec.State.Final {
		rec.State = d.liveState(r.Context(), rec)
	}
	return writeJSON(w, http.StatusOK, dispatchAnswerOf(rec, d.s.now()))
}
