package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// Authorized is the control plane's answer to an authorized dispatch:
// the job may be submitted, and recorded against AuthorizationID.
type Authorized struct {
	AuthorizationID string `json:"authorizationId"`
	Fingerprint     string `json:"fingerprint"`
	LogIndex        uint64 `json:"logIndex"`
	Receipt         string `json:"receipt"`
}

// Recorded is the control plane's answer to a recorded dispatch.
type Recorded struct {
	DispatchID string `json:"dispatchId"`
	LogIndex   uint64 `json:"logIndex"`
	Receipt    string `json:"receipt"`
}

// authorizeRequest is the body of POST
// /api/v1/releases/{id}/dispatch-authorizations (API8.md).
type authorizeRequest struct {
	RunID       string `json:"runId"`
	Fingerprint string `json:"fingerprint"`
	Cluster     string `json:"cluster,omitempty"`
	Partition   string `json:"partition,omitempty"`
	BuilderID   string `json:"builderId,omitempty"`
	Account     string `json:"account,omitempty"`
	QOS         string `json:"qos,omitempty"`
	TimeLimit   string `json:"timeLimit,omitempty"`
	Nodes       int    `json:"nodes,omitempty"`
	NTasks      int    `json:"ntasks,omitempty"`
	GPUs        string `json:"gpus,omitempty"`
	Gres        string `json:"gres,omitempty"`
}

// authorizationOf is the authorization request for the job spec (its
// comment the idempotency key) on cluster by builder.
func authorizationOf(spec slurm.JobSpec, cluster, builder string) authorizeRequest {
	r := authorizeRequest{RunID: spec.Comment, Fingerprint: spec.Fingerprint(), Cluster: cluster, Partition: spec.Partition, BuilderID: builder,
		Account: spec.Account, QOS: spec.QOS, Nodes: spec.Nodes, NTasks: spec.NTasks, GPUs: spec.GPUs, Gres: spec.Gres}
	if spec.TimeLimit > 0 {
		r.TimeLimit = spec.TimeLimit.Round(time.Second).String()
	}
	return r
}

// dispatchRecord is the body of POST /api/v1/releases/{id}/dispatches.
type dispatchRecord struct {
	JobID           string `json:"jobId"`
	Cluster         string `json:"cluster,omitempty"`
	Partition       string `json:"partition,omitempty"`
	RunID           string `json:"runId"`
	BuilderID       string `json:"builderId,omitempty"`
	AuthorizationID string `json:"authorizationId"`
	Fingerprint     string `json:"fingerprint"`
}

// AuthorizationError is the control plane's refusal to authorize a job:
// nothing was submitted.
type AuthorizationError struct {
	Release string
	Status  int
	Detail  string
}

func (e *AuthorizationError) Error() string {
	msg := fmt.Sprintf("the control plane did not authorize the job for release %q, so nothing was submitted: it answered %d %s", e.Release, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		msg += "; a service token needs the scopes read and dispatch (slipway token create --scope read,dispatch), an OIDC ID token an uploader rule for the release's repository"
	}
	return msg
}

// authorize asks the control plane to authorize the job before anything
// is submitted (API8.md; scope dispatch): it checks the identity, the
// release and the policy's dispatch limits and logs a dispatch-authorized
// entry. The same request again answers the first answer.
func authorize(ctx context.Context, s Source, release string, a authorizeRequest) (*Authorized, error) {
	var out Authorized
	status, detail, err := post(ctx, s, release, "dispatch-authorizations", a, &out)
	if err != nil {
		return nil, fmt.Errorf("asking the control plane to authorize the job (nothing was submitted): %w", err)
	}
	if status != 0 {
		return nil, &AuthorizationError{Release: release, Status: status, Detail: detail}
	}
	return &out, nil
}

// record asks the control plane to log the dispatch (API8.md; scope
// dispatch) against its authorization. The same record again answers the
// first answer.
func record(ctx context.Context, s Source, release string, d dispatchRecord) (*Recorded, error) {
	var out Recorded
	op := fmt.Sprintf("recording the dispatch of job %s at the control plane", d.JobID)
	status, detail, err := post(ctx, s, release, "dispatches", d, &out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if status != 0 {
		msg := fmt.Sprintf("%s: the server answered %d %s", op, status, http.StatusText(status))
		if detail != "" {
			msg += ": " + detail
		}
		return nil, fmt.Errorf("%s", msg)
	}
	return &out, nil
}

// post sends body as JSON to POST /api/v1/releases/{release}/{what} with
// the source's bearer token and decodes a 200 or 201 answer into out; any
// other answer is its status and the problem's detail.
func post(ctx context.Context, s Source, release, what string, body, out any) (int, string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, "", err
	}
	ref, err := url.Parse(strings.TrimSuffix(s.Server.EscapedPath(), "/") + "/api/v1/releases/" + url.PathEscape(release) + "/" + what)
	if err != nil {
		return 0, "", err
	}
	u := *s.Server
	u.Path, u.RawPath = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.ResolveReference(ref).String(), bytes.NewReader(raw))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	tok, err := s.bearer(ctx)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var p struct{ Detail string }
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p)
		return resp.StatusCode, p.Detail, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return 0, "", fmt.Errorf("the answer is not JSON: %w", err)
	}
	return 0, "", nil
}
