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
)

// Recorded is the control plane's answer to a recorded dispatch.
type Recorded struct {
	DispatchID string `json:"dispatchId"`
	LogIndex   uint64 `json:"logIndex"`
	Receipt    string `json:"receipt"`
}

// dispatchRecord is the body of POST /api/v1/releases/{id}/dispatches.
type dispatchRecord struct {
	JobID     string `json:"jobId"`
	Cluster   string `json:"cluster,omitempty"`
	Partition string `json:"partition,omitempty"`
	RunID     string `json:"runId"`
	BuilderID string `json:"builderId,omitempty"`
}

// record asks the control plane to log the dispatch (API8.md; scope
// dispatch). The same record again answers the first answer.
func record(ctx context.Context, s Source, release string, d dispatchRecord) (*Recorded, error) {
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	ref, err := url.Parse(strings.TrimSuffix(s.Server.EscapedPath(), "/") + "/api/v1/releases/" + url.PathEscape(release) + "/dispatches")
	if err != nil {
		return nil, err
	}
	u := *s.Server
	u.Path, u.RawPath = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.ResolveReference(ref).String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	tok, err := s.bearer(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	op := fmt.Sprintf("recording the dispatch of job %s at the control plane", d.JobID)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var p struct{ Detail string }
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p)
		msg := fmt.Sprintf("%s: the server answered %d %s", op, resp.StatusCode, http.StatusText(resp.StatusCode))
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			msg += "; a service token needs the scopes read and dispatch (slipway token create --scope read,dispatch), an OIDC ID token an uploader rule for the release's repository"
		}
		return nil, fmt.Errorf("%s", msg)
	}
	var r Recorded
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: the answer is not JSON: %w", op, err)
	}
	return &r, nil
}
