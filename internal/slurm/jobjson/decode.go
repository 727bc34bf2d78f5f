package jobjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// Response is the part of a Slurm JSON answer every endpoint shares.
type Response struct {
	Meta     Meta      `json:"meta"`
	Errors   []Error   `json:"errors"`
	Warnings []Warning `json:"warnings"`
}

// Meta names the Slurm that answered: v0.0.38 writes "Slurm", later versions
// "slurm".
type Meta struct {
	Plugin struct {
		Type string `json:"type"`
	} `json:"plugin"`
	Slurm38 *slurmMeta `json:"Slurm"`
	Slurm   *slurmMeta `json:"slurm"`
}

type slurmMeta struct {
	Release string `json:"release"`
}

// Release returns the Slurm release ("22.05.8"), or "".
func (m Meta) Release() string {
	for _, s := range []*slurmMeta{m.Slurm, m.Slurm38} {
		if s != nil && s.Release != "" {
			return s.Release
		}
	}
	return ""
}

// Error is one entry of errors[]. v0.0.38 names the number error_number in
// some answers and error_code in others.
type Error struct {
	Error       string `json:"error"`
	Number      int    `json:"error_number"`
	Code        int    `json:"error_code"`
	Description string `json:"description"`
	Source      string `json:"source"`
}

// Num returns the Slurm error number, whichever key carried it.
func (e Error) Num() int {
	if e.Number != 0 {
		return e.Number
	}
	return e.Code
}

// String renders the error as one line: "Invalid job id specified (2017,
// slurm_kill_job: unable to kill JobId=9 …)".
func (e Error) String() string {
	var b strings.Builder
	b.WriteString(e.Error)
	if b.Len() == 0 {
		b.WriteString("error")
	}
	var extra []string
	if n := e.Num(); n != 0 {
		extra = append(extra, fmt.Sprint(n))
	}
	if e.Description != "" && e.Description != e.Error {
		d := e.Description
		if e.Source != "" {
			d = e.Source + ": " + d
		}
		extra = append(extra, d)
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(extra, ", "))
	}
	return b.String()
}

// Warning is one entry of warnings[].
type Warning struct {
	Description string `json:"description"`
	Source      string `json:"source"`
}

// Slurm error numbers a backend branches on (slurm_errno.h).
const (
	ErrInvalidJobID = 2017 // ESLURM_INVALID_JOB_ID
	ErrAlreadyDone  = 2021 // ESLURM_ALREADY_DONE
)

// JobsResponse is a job list answer: GET …/jobs, GET …/job/{id}, squeue --json.
type JobsResponse struct {
	Response
	Jobs []Job
}

// Select returns the jobs of the list whose ids are in ids (one answer, every
// backend's Backend.Jobs); ids the list lacks are absent from the map.
func (r *JobsResponse) Select(ids []uint32) map[uint32]slurm.Job {
	want := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make(map[uint32]slurm.Job, len(ids))
	for _, j := range r.Jobs {
		if want[j.ID] {
			out[j.ID] = j.Job
		}
	}
	return out
}

// WithComment returns the jobs whose comment is exactly c and that mine says
// belong to the backend's user (every backend's Backend.FindByComment).
func (r *JobsResponse) WithComment(c string, mine func(Job) bool) []slurm.Job {
	var out []slurm.Job
	for _, j := range r.Jobs {
		if j.Comment == c && mine(j) {
			out = append(out, j.Job)
		}
	}
	return out
}

// Job is one decoded job with the owner Slurm reports for it.
type Job struct {
	slurm.Job
	UserName string
	UserID   int64 // -1 when Slurm did not say
}

type rawJob struct {
	JobID          json.RawMessage `json:"job_id"`
	Name           string          `json:"name"`
	Comment        string          `json:"comment"`
	Partition      string          `json:"partition"`
	Cluster        string          `json:"cluster"`
	Nodes          string          `json:"nodes"`
	JobState       json.RawMessage `json:"job_state"`
	StateReason    string          `json:"state_reason"`
	ExitCode       json.RawMessage `json:"exit_code"`
	SubmitTime     json.RawMessage `json:"submit_time"`
	StartTime      json.RawMessage `json:"start_time"`
	EndTime        json.RawMessage `json:"end_time"`
	StandardOutput string          `json:"standard_output"`
	StandardError  string          `json:"standard_error"`
	TRESAllocStr   string          `json:"tres_alloc_str"`
	UserName       string          `json:"user_name"`
	UserID         json.RawMessage `json:"user_id"`
}

// DecodeJobs decodes a job list answer of any supported version.
func DecodeJobs(data []byte) (*JobsResponse, error) {
	var raw struct {
		Response
		Jobs []rawJob `json:"jobs"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decoding Slurm's job list: %w", err)
	}
	out := &JobsResponse{Response: raw.Response, Jobs: make([]Job, 0, len(raw.Jobs))}
	for i, r := range raw.Jobs {
		j, err := r.job()
		if err != nil {
			return nil, fmt.Errorf("decoding Slurm's job list: jobs[%d]: %w", i, err)
		}
		out.Jobs = append(out.Jobs, j)
	}
	return out, nil
}

func (r rawJob) job() (Job, error) {
	id, ok, err := number(r.JobID)
	if err != nil || !ok || id <= 0 || id > 1<<32-1 {
		return Job{}, fmt.Errorf("job_id %s is not a job id", clip(r.JobID))
	}
	j := Job{Job: slurm.Job{
		ID: uint32(id), Name: r.Name, Comment: r.Comment, Partition: r.Partition, Cluster: r.Cluster,
		Nodes: r.Nodes, Reason: r.StateReason, TRES: r.TRESAllocStr, ExitCode: -1,
	}, UserName: r.UserName, UserID: -1}
	if j.State, err = state(r.JobState); err != nil {
		return Job{}, fmt.Errorf("job %d: %w", id, err)
	}
	for _, t := range []struct {
		name string
		raw  json.RawMessage
		dst  *time.Time
	}{{"submit_time", r.SubmitTime, &j.Submit}, {"start_time", r.StartTime, &j.Start}, {"end_time", r.EndTime, &j.End}} {
		n, ok, err := number(t.raw)
		if err != nil {
			return Job{}, fmt.Errorf("job %d: %s: %w", id, t.name, err)
		}
		if ok && n > 0 {
			*t.dst = time.Unix(n, 0).UTC()
		}
	}
	if uid, ok, err := number(r.UserID); err == nil && ok {
		j.UserID = uid
	}
	if err := j.exitCode(r.ExitCode); err != nil {
		return Job{}, fmt.Errorf("job %d: exit_code: %w", id, err)
	}
	j.Stdout = slurm.ExpandLogPath(r.StandardOutput, j.ID, j.Name)
	j.Stderr = slurm.ExpandLogPath(r.StandardError, j.ID, j.Name)
	return j, nil
}

// state decodes job_state: "COMPLETED" (v0.0.38) or ["COMPLETED"] (v0.0.40+).
func state(raw json.RawMessage) (slurm.State, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	if raw[0] == '[' {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", fmt.Errorf("job_state %s: %w", clip(raw), err)
		}
		return slurm.StateFromList(list), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("job_state %s: %w", clip(raw), err)
	}
	return slurm.ParseState(s), nil
}

const noVal = 0xfffffffe // NO_VAL

// exitCode decodes exit_code: a wait(2) status (v0.0.38) or {status,
// return_code, signal} (v0.0.40+). A job that has not ended keeps -1.
func (j *Job) exitCode(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	ended := j.State.Final() || j.State == slurm.Completing
	if raw[0] != '{' {
		st, ok, err := number(raw)
		if err != nil || !ok || !ended || st < 0 || st >= noVal {
			return err
		}
		if sig := st & 0x7f; sig != 0 && sig != 0x7f { // WIFSIGNALED
			j.Signal = int(sig)
			return nil
		}
		j.ExitCode = int(st>>8) & 0xff
		return nil
	}
	var v struct {
		Status     []string        `json:"status"`
		ReturnCode json.RawMessage `json:"return_code"`
		Signal     struct {
			ID       json.RawMessage `json:"id"`
			SignalID json.RawMessage `json:"signal_id"`
		} `json:"signal"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	for _, s := range v.Status {
		switch s {
		case "PENDING", "INVALID":
			return nil
		case "SIGNALED":
			for _, r := range []json.RawMessage{v.Signal.ID, v.Signal.SignalID} {
				if n, ok, err := number(r); err == nil && ok && n > 0 && n < 128 {
					j.Signal = int(n)
				}
			}
			return nil
		}
	}
	rc, ok, err := number(v.ReturnCode)
	if err != nil {
		return err
	}
	if ok && rc >= 0 && rc <= 255 {
		j.ExitCode = int(rc)
	}
	return nil
}

// number decodes a plain JSON number or Slurm's {set, infinite, number}; ok
// is false for null, unset and infinite.
func number(raw json.RawMessage) (n int64, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, false, nil
	}
	if raw[0] == '{' {
		var v struct {
			Set      bool  `json:"set"`
			Infinite bool  `json:"infinite"`
			Number   int64 `json:"number"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return 0, false, fmt.Errorf("%s is not a number: %w", clip(raw), err)
		}
		if !v.Set || v.Infinite {
			return 0, false, nil
		}
		return v.Number, true, nil
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, false, fmt.Errorf("%s is not a number: %w", clip(raw), err)
	}
	return n, true, nil
}

func clip(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:40]) + "…"
	}
	return string(raw)
}
