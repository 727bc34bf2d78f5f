package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog/entry"
)

// authorizeRequest is the body of POST
// /api/v1/releases/{id}/dispatch-authorizations: the job a dispatcher is
// about to submit, by its idempotency key and spec fingerprint, and the
// resources the policy's dispatch limits judge.
type authorizeRequest struct {
	RunID       string          `json:"runId"`
	Fingerprint string          `json:"fingerprint"`
	Cluster     string          `json:"cluster"`
	Partition   string          `json:"partition"`
	BuilderID   string          `json:"builderId"`
	Account     string          `json:"account"`
	QOS         string          `json:"qos"`
	TimeLimit   json.RawMessage `json:"timeLimit"`
	Nodes       int             `json:"nodes"`
	NTasks      int             `json:"ntasks"`
	GPUs        string          `json:"gpus"`
	Gres        string          `json:"gres"`
}

// authorizationAnswer is the JSON of an authorization (201, 200).
type authorizationAnswer struct {
	AuthorizationID string    `json:"authorizationId"`
	ReleaseID       string    `json:"releaseId"`
	RunID           string    `json:"runId"`
	Fingerprint     string    `json:"fingerprint"`
	Cluster         string    `json:"cluster,omitempty"`
	Partition       string    `json:"partition,omitempty"`
	BuilderID       string    `json:"builderId,omitempty"`
	Requester       string    `json:"requester"`
	Created         time.Time `json:"created"`
	LogIndex        uint64    `json:"logIndex"`
	Receipt         string    `json:"receipt"`
}

func authorizationAnswerOf(a store.DispatchAuthorization) authorizationAnswer {
	return authorizationAnswer{AuthorizationID: a.ID, ReleaseID: a.ReleaseID, RunID: a.RunID, Fingerprint: a.Fingerprint, Cluster: a.Cluster,
		Partition: a.Partition, BuilderID: a.BuilderID, Requester: a.Requester, Created: a.Created.UTC(), LogIndex: a.LogIndex, Receipt: string(a.Receipt)}
}

// fingerprintForm is a job spec's fingerprint: SHA-256, lowercase hex.
var fingerprintForm = lazyregexp.New(`^[0-9a-f]{64}$`)

// authorizationID is the id of the authorization of release under the
// idempotency key runID: a re-run of the same workflow attempt (the same
// key) finds it.
func authorizationID(release, runID string) string {
	sum := sha256.Sum256([]byte("authorization\n" + release + "\n" + runID))
	return "a-" + hex.EncodeToString(sum[:8])
}

// badDispatch is a 400 naming the field of a dispatch body that is wrong.
func badDispatch(field, format string, a ...any) error {
	return &Problem{Status: http.StatusBadRequest, Type: "bad-dispatch", Title: "Not a dispatch request", Check: field,
		Detail: fmt.Sprintf("field %q ", field) + fmt.Sprintf(format, a...)}
}

// checkJobFields checks the fields an authorization and a record share.
func checkJobFields(runID, fingerprint, cluster, partition, builderID string) error {
	switch {
	case !runIDForm.MatchString(runID):
		return badDispatch("runId", "is not 1 to 255 characters of [A-Za-z0-9._:=/-]; give the dispatcher's idempotency key (the job's comment)")
	case !fingerprintForm.MatchString(fingerprint):
		return badDispatch("fingerprint", "is %q; give the job spec's fingerprint (64 lowercase hex, slurm.JobSpec.Fingerprint)", fingerprint)
	case !slurmName.MatchString(cluster):
		return badDispatch("cluster", "is %q; a cluster name is at most 64 characters of [A-Za-z0-9._-], or empty for the local cluster", cluster)
	case !slurmName.MatchString(partition):
		return badDispatch("partition", "is %q; a partition name is at most 64 characters of [A-Za-z0-9._-], or empty for the default", partition)
	case len(builderID) > 1024 || strings.ContainsFunc(builderID, func(c rune) bool { return c <= ' ' || c == 0x7f }):
		return badDispatch("builderId", "must be a URI of at most 1024 characters without spaces or control characters")
	}
	return nil
}

// authorize is POST /api/v1/releases/{id}/dispatch-authorizations: before
// a dispatcher submits anything, the server checks its identity (an OIDC
// identity against the uploader rules), the release, and the job against
// the policy's dispatch limits when the policy has a dispatch section,
// then logs a dispatch-authorized entry and answers 201 with the
// authorization id. The same request again by the same identity answers
// 200 with the first answer (a re-run reuses its authorization); nothing
// is logged for a refusal.
func (d *dispatches) authorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rel, err := d.s.release(r)
	if err != nil {
		return err
	}
	var req authorizeRequest
	if err := decodeStrict(w, r, &req); err != nil {
		return err
	}
	if err := checkJobFields(req.RunID, req.Fingerprint, req.Cluster, req.Partition, req.BuilderID); err != nil {
		return err
	}
	limit, err := parseTimeLimit(req.TimeLimit)
	if err != nil {
		return badDispatch("timeLimit", "%v", err)
	}
	if err := d.allowed(ctx, rel); err != nil {
		return err
	}
	if pol := d.s.cfg.Policy; len(pol.Dispatch) > 0 {
		if err := checkLimits(pol, rel, policy.DispatchRequest{Partition: req.Partition, Account: req.Account, QOS: req.QOS,
			TimeLimit: limit, Nodes: req.Nodes, NTasks: req.NTasks, GPUs: req.GPUs, Gres: req.Gres}); err != nil {
			return err
		}
	}
	a, created, err := d.grant(ctx, rel, store.DispatchAuthorization{RunID: req.RunID, Fingerprint: req.Fingerprint,
		Cluster: req.Cluster, Partition: req.Partition, BuilderID: req.BuilderID})
	if err != nil {
		return err
	}
	if !created {
		return writeJSON(w, http.StatusOK, authorizationAnswerOf(a))
	}
	w.Header().Set("Location", "/api/v1/releases/"+rel.ID+"/dispatch-authorizations/"+a.ID)
	return writeJSON(w, http.StatusCreated, authorizationAnswerOf(a))
}

// checkLimits refuses a job over the policy's dispatch limits for rel's
// source repository: 403 dispatch-limits naming the limit.
func checkLimits(pol *policy.Policy, rel store.Release, req policy.DispatchRequest) error {
	dec := pol.CheckDispatch(rel.SourceRepository, req)
	if dec.Allowed {
		return nil
	}
	return &Problem{Status: http.StatusForbidden, Type: "dispatch-limits", Title: "Over the policy's dispatch limits", Check: dec.Limit,
		Detail: fmt.Sprintf("release %q (%s) may not run so: %s; nothing was submitted", rel.ID, rel.SourceRepository, dec.Reason)}
}

// grant returns the authorization of rel under want.RunID for the
// request's identity: the one given before (created false), or a new one,
// logged as a dispatch-authorized entry and stored. An authorization
// given to another identity, or for another job spec, cluster, partition
// or builder id, is refused.
func (d *dispatches) grant(ctx context.Context, rel store.Release, want store.DispatchAuthorization) (store.DispatchAuthorization, bool, error) {
	_, who := callerOf(ctx)
	want.ID, want.ReleaseID, want.Requester = authorizationID(rel.ID, want.RunID), rel.ID, who
	done, err := d.inflight.begin(ctx, want.ID)
	if err != nil {
		return want, false, err
	}
	defer done()
	first, err := d.s.cfg.Store.DispatchAuthorization(ctx, want.ID)
	if err == nil {
		return first, false, sameAuthorization(first, want)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return want, false, err
	}
	// Logged by a request that failed before recording it: finished.
	if f, err := d.s.pendingIntent(ctx, want.ID); err != nil {
		return want, false, err
	} else if f != nil {
		return f.authorization, false, sameAuthorization(f.authorization, want)
	}
	if err := ConsumeOIDC(ctx); err != nil {
		return want, false, err
	}
	want.Created = d.s.now()
	raw, err := entryAbout(rel, entry.Entry{Kind: entry.KindDispatchAuthorized, Decision: entry.DecisionAuthorized, Uploader: who,
		Time: want.Created, Dispatch: &entry.Dispatch{Authorization: want.ID, Fingerprint: want.Fingerprint, RunID: want.RunID,
			Cluster: want.Cluster, Partition: want.Partition, BuilderID: want.BuilderID}})
	if err != nil {
		return want, false, err
	}
	// The intent first: CreateDispatchAuthorization removes it (intents.go).
	rc, err := d.s.appendIntent(ctx, store.IntentAuthorization, want.ID, raw, want)
	if err != nil {
		return want, false, err
	}
	want.LogIndex, want.LogEntry, want.Receipt = rc.Index, raw, rc.Marshal()
	if err := d.s.cfg.Store.CreateDispatchAuthorization(context.WithoutCancel(ctx), want); err != nil {
		if errors.Is(err, store.ErrExists) { // a stale intent of it finished by another replica
			if first, err := d.s.cfg.Store.DispatchAuthorization(ctx, want.ID); err == nil {
				d.s.recorded(want.ID)
				return first, false, sameAuthorization(first, want)
			}
		}
		return want, false, err // the intent stays pending: the same request again finishes it
	}
	d.s.recorded(want.ID)
	d.s.log.Info("dispatch authorized", "request_id", requestID(ctx), "authorization", want.ID, "release", rel.ID, "run_id", want.RunID,
		"fingerprint", want.Fingerprint, "cluster", want.Cluster, "log_index", want.LogIndex, "identity", who)
	return want, true, nil
}

// sameAuthorization checks that the authorization given before, first,
// is the one asked for again: the same identity and the same job.
func sameAuthorization(first, want store.DispatchAuthorization) error {
	if first.Requester != want.Requester {
		return notAuthorized("requester", "authorization %q of run %q was given to %q, not to %q: only that identity may submit and record this job",
			first.ID, first.RunID, first.Requester, want.Requester)
	}
	for _, f := range []struct{ name, first, want string }{{"fingerprint", first.Fingerprint, want.Fingerprint},
		{"cluster", first.Cluster, want.Cluster}, {"partition", first.Partition, want.Partition}, {"builderId", first.BuilderID, want.BuilderID}} {
		if f.first != f.want {
			return &Problem{Status: http.StatusConflict, Type: "authorization-conflict", Title: "Authorized for another job", Check: f.name,
				Detail: fmt.Sprintf("run %q was authorized for release %q as authorization %q with %s %q, not %q: an authorization cannot change; a changed job gets a new idempotency key",
					first.RunID, first.ReleaseID, first.ID, f.name, f.first, f.want)}
		}
	}
	return nil
}

// notAuthorized is a 403 for a dispatch record without a matching
// authorization; check names what does not match.
func notAuthorized(check, format string, a ...any) error {
	return &Problem{Status: http.StatusForbidden, Type: "not-authorized", Title: "Dispatch not authorized", Check: check,
		Detail: fmt.Sprintf(format, a...)}
}

// authorized checks that a dispatch record names the authorization given
// before its job was submitted: of this release and run, to the request's
// identity, for this job spec, cluster, partition and builder id.
func (d *dispatches) authorized(ctx context.Context, rel store.Release, req recordRequest) (store.DispatchAuthorization, error) {
	a, err := d.s.cfg.Store.DispatchAuthorization(ctx, req.AuthorizationID)
	if errors.Is(err, store.ErrNotFound) {
		return a, notAuthorized("authorization", "no authorization %q was given here: a dispatcher asks POST /api/v1/releases/%s/dispatch-authorizations before it submits, and records the job against the answer",
			req.AuthorizationID, rel.ID)
	}
	if err != nil {
		return a, err
	}
	if a.ReleaseID != rel.ID || a.RunID != req.RunID {
		return a, notAuthorized("authorization", "authorization %q is for release %q and run %q, not release %q and run %q",
			a.ID, a.ReleaseID, a.RunID, rel.ID, req.RunID)
	}
	_, who := callerOf(ctx)
	want := store.DispatchAuthorization{ID: a.ID, RunID: a.RunID, Requester: who, Fingerprint: req.Fingerprint, Cluster: req.Cluster,
		Partition: req.Partition, BuilderID: req.BuilderID}
	if err := sameAuthorization(a, want); err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Status == http.StatusConflict {
			return a, notAuthorized(p.Check, "%s", p.Detail)
		}
		return a, err
	}
	return a, nil
}
