package rest

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/jobjson"
)

// jobsPath is the job list of version: v0.0.38 has no trailing slash.
func jobsPath(v string) string {
	if v == "v0.0.38" {
		return "/slurm/v0.0.38/jobs"
	}
	return "/slurm/" + v + "/jobs/"
}

// list is one GET …/jobs: every job slurmctld still knows.
func (b *Backend) list(ctx context.Context) (*jobjson.JobsResponse, error) {
	v, err := b.api(ctx)
	if err != nil {
		return nil, err
	}
	path := jobsPath(v)
	a, err := b.do(ctx, "GET", path, nil, maxAnswer)
	if err != nil {
		return nil, err
	}
	if err := b.check("GET "+path, a); err != nil {
		return nil, exitcode.Infra(err)
	}
	resp, err := jobjson.DecodeJobs(a.body)
	if err != nil {
		return nil, exitcode.Infraf("slurm: GET %s: %v: is slurmrestd serving %s?", path, err, v)
	}
	return resp, nil
}

// Jobs returns what Slurm knows of ids from one GET …/jobs; ids it forgot are
// absent.
func (b *Backend) Jobs(ctx context.Context, ids []uint32) (map[uint32]slurm.Job, error) {
	if len(ids) == 0 {
		return map[uint32]slurm.Job{}, nil
	}
	resp, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	return resp.Select(ids), nil
}

// FindByComment returns the jobs of Options.User whose comment is exactly c.
func (b *Backend) FindByComment(ctx context.Context, c string) ([]slurm.Job, error) {
	if c == "" {
		return nil, exitcode.BadInputf("slurm: finding a job by comment: the comment is empty: pass the idempotency key")
	}
	if err := slurm.CheckComment(c); err != nil {
		return nil, err
	}
	resp, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	return resp.WithComment(c, func(j jobjson.Job) bool { return j.UserName == b.o.User }), nil
}

// Cancel DELETEs …/job/{id}; a job that already ended or that Slurm forgot
// is not an error.
func (b *Backend) Cancel(ctx context.Context, id uint32) error {
	if id == 0 {
		return exitcode.BadInputf("slurm: cancel: job id 0 is not a job")
	}
	v, err := b.api(ctx)
	if err != nil {
		return err
	}
	path := "/slurm/" + v + "/job/" + strconv.FormatUint(uint64(id), 10)
	a, err := b.do(ctx, "DELETE", path, nil, 1<<20)
	if err != nil {
		return err
	}
	err = b.check("DELETE "+path, a)
	if e, ok := err.(*apiError); ok && (e.has(jobjson.ErrInvalidJobID) || e.has(jobjson.ErrAlreadyDone)) {
		return nil
	}
	if err != nil {
		return exitcode.Infra(err)
	}
	return killStatus(path, a.body)
}

// killStatus reads v0.0.42's per-job status[] of a DELETE answer: a job that
// ended or that Slurm forgot is fine, any other error code is an error.
func killStatus(path string, body []byte) error {
	var r struct {
		Status []struct {
			Error struct {
				String  string `json:"string"`
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"status"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil // v0.0.38–41 have no status[]; errors[] was judged above
	}
	for _, s := range r.Status {
		switch s.Error.Code {
		case 0, jobjson.ErrInvalidJobID, jobjson.ErrAlreadyDone:
			continue
		}
		return exitcode.Infraf("slurm: slurmrestd DELETE %s: %s (%d): %s: check the job with squeue and slurmctld's log", path, s.Error.String, s.Error.Code, s.Error.Message)
	}
	return nil
}

// Version returns the Slurm release from GET …/ping's meta.
func (b *Backend) Version(ctx context.Context) (string, error) {
	v, err := b.api(ctx)
	if err != nil {
		return "", err
	}
	path := "/slurm/" + v + "/ping"
	if v != "v0.0.38" {
		path += "/"
	}
	a, err := b.do(ctx, "GET", path, nil, 1<<20)
	if err != nil {
		return "", err
	}
	if err := b.check("GET "+path, a); err != nil {
		return "", exitcode.Infra(err)
	}
	if r := a.resp.Meta.Release(); r != "" {
		return r, nil
	}
	return "", exitcode.Infraf("slurm: GET %s: the answer names no Slurm release in meta: check slurmrestd", path)
}
