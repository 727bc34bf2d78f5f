package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/cpclient"
)

// Job is a dispatch of an admitted release to Slurm.
type Job struct {
	DispatchID      string     `json:"dispatchId" jsonschema:"d- and 16 hex digits"`
	AuthorizationID string     `json:"authorizationId,omitempty"`
	ReleaseID       string     `json:"releaseId"`
	JobID           string     `json:"jobId" jsonschema:"Slurm's job id"`
	Cluster         string     `json:"cluster,omitempty"`
	Partition       string     `json:"partition,omitempty"`
	Requester       string     `json:"requester" jsonschema:"the identity that recorded or approved the dispatch"`
	Created         time.Time  `json:"created"`
	LogIndex        uint64     `json:"logIndex" jsonschema:"its dispatch-recorded log entry"`
	Submitted       bool       `json:"submitted" jsonschema:"the server submitted it (and follows its state)"`
	State           string     `json:"state,omitempty" jsonschema:"Slurm's job state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, …"`
	Node            string     `json:"node,omitempty" jsonschema:"where it runs or ran, as Slurm names it (node1, node[1-4])"`
	ExitCode        *int       `json:"exitCode,omitempty"`
	Started         *time.Time `json:"started,omitempty"`
	Ended           *time.Time `json:"ended,omitempty"`
	Elapsed         string     `json:"elapsed,omitempty"`
}

// ListJobsIn selects jobs.
type ListJobsIn struct {
	ReleaseID string `json:"releaseId,omitempty" jsonschema:"only this release's jobs"`
	Limit     int    `json:"limit,omitempty" jsonschema:"page size, 1 to 100 (default 20)"`
	PageToken string `json:"pageToken,omitempty" jsonschema:"nextPageToken of the previous page"`
}

// ListJobsOut is a page of jobs, newest first.
type ListJobsOut struct {
	Jobs          []Job  `json:"jobs"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

func (s *Server) listJobs(ctx context.Context, req *mcp.CallToolRequest, in ListJobsIn) (*mcp.CallToolResult, ListJobsOut, error) {
	q := url.Values{}
	if in.ReleaseID != "" {
		q.Set("release", in.ReleaseID)
	}
	if in.Limit != 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	if in.PageToken != "" {
		q.Set("page_token", in.PageToken)
	}
	var page struct {
		Dispatches []Job
		Next       string
	}
	if err := s.call(req).JSON(ctx, "listing jobs", "GET", "/api/v1/dispatches", q, nil, &page); err != nil {
		return nil, ListJobsOut{}, toolError("listing jobs", err)
	}
	out := ListJobsOut{Jobs: page.Dispatches, NextPageToken: cpclient.PageToken(page.Next)}
	if out.Jobs == nil {
		out.Jobs = []Job{}
	}
	return nil, out, nil
}

// JobIn names a job.
type JobIn struct {
	DispatchID string `json:"dispatchId" jsonschema:"d- and 16 hex digits, from list_jobs"`
	Lines      int    `json:"lines,omitempty" jsonschema:"how many lines of output to show, 1 to 1000 (default 50)"`
}

// JobOut is a job and its output's tail.
type JobOut struct {
	Job
	LogTail string `json:"logTail" jsonschema:"the last lines of the job's standard output (jobs the server submitted)"`
	LogNote string `json:"logNote,omitempty" jsonschema:"why there is no output tail"`
}

func (s *Server) getJob(ctx context.Context, req *mcp.CallToolRequest, in JobIn) (*mcp.CallToolResult, JobOut, error) {
	var out JobOut
	if err := checkID("dispatchId", in.DispatchID, "d-"); err != nil {
		return nil, out, err
	}
	c := s.call(req)
	op := fmt.Sprintf("reading job %q", in.DispatchID)
	if err := c.JSON(ctx, op, "GET", "/api/v1/dispatches/"+in.DispatchID, nil, nil, &out.Job); err != nil {
		return nil, out, toolError(op, err)
	}
	q := url.Values{}
	if in.Lines != 0 {
		q.Set("lines", strconv.Itoa(in.Lines))
	}
	tail, err := c.Do(ctx, op+"'s output", "GET", "/api/v1/dispatches/"+in.DispatchID+"/log", q, nil)
	switch {
	case cpclient.IsStatus(err, http.StatusConflict):
		out.LogNote = "a dispatcher submitted this job, not the server: its output is on the dispatcher's side"
	case err != nil:
		return nil, out, toolError(op, err)
	default:
		out.LogTail = string(tail)
	}
	return nil, out, nil
}

// DispatchIn is the job to ask for.
type DispatchIn struct {
	ReleaseID   string `json:"releaseId" jsonschema:"the admitted release to run"`
	Command     string `json:"command,omitempty" jsonschema:"the command line, split into words without a shell, run in the job's directory (one of command and script)"`
	Script      string `json:"script,omitempty" jsonschema:"an artifact of the release run with /bin/sh"`
	Artifact    string `json:"artifact,omitempty" jsonschema:"the artifact to check and run when the release has several"`
	Partition   string `json:"partition,omitempty"`
	Account     string `json:"account,omitempty"`
	QOS         string `json:"qos,omitempty"`
	TimeLimit   string `json:"timeLimit,omitempty" jsonschema:"a duration such as 30m"`
	Nodes       int    `json:"nodes,omitempty"`
	NTasks      int    `json:"ntasks,omitempty"`
	CPUsPerTask int    `json:"cpusPerTask,omitempty"`
	Mem         string `json:"mem,omitempty" jsonschema:"memory per node, such as 256M"`
	GPUs        string `json:"gpus,omitempty"`
	Reason      string `json:"reason,omitempty" jsonschema:"why it should run; the approver reads it"`
}

// DispatchRequest is a request to run a release, waiting for a person.
type DispatchRequest struct {
	RequestID  string         `json:"requestId" jsonschema:"q- and 16 hex digits"`
	ReleaseID  string         `json:"releaseId"`
	Job        map[string]any `json:"job" jsonschema:"the job asked for"`
	Reason     string         `json:"reason,omitempty"`
	Requester  string         `json:"requester"`
	Created    time.Time      `json:"created"`
	State      string         `json:"state" jsonschema:"pending, approved, denied or failed"`
	Decider    string         `json:"decider,omitempty"`
	Decided    *time.Time     `json:"decided,omitempty"`
	DispatchID string         `json:"dispatchId,omitempty" jsonschema:"the job its approval submitted (get_job)"`
	Detail     string         `json:"detail,omitempty"`
	Next       string         `json:"next,omitempty" jsonschema:"what happens now"`
}

func (s *Server) addDispatchTools(srv *mcp.Server) {
	addTool(srv, &mcp.Tool{Name: "dispatch_release", Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(false), OpenWorldHint: ptr(true)},
		Description: "Asks to run an admitted release as a Slurm job (dispatch scope). Nothing runs until a person with the admin scope approves the request (slipway approve ID): the answer is the pending request; follow it with get_dispatch_request."},
		s.dispatchRelease)
	addTool(srv, &mcp.Tool{Name: "cancel_job", Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true)},
		Description: "Cancels a job the server submitted (dispatch scope); a job that ended is left as it is."},
		s.cancelJob)
}

func ptr[T any](v T) *T { return &v }

func (s *Server) dispatchRelease(ctx context.Context, req *mcp.CallToolRequest, in DispatchIn) (*mcp.CallToolResult, DispatchRequest, error) {
	var out DispatchRequest
	if err := checkID("releaseId", in.ReleaseID, "r-"); err != nil {
		return nil, out, err
	}
	job := map[string]any{}
	for k, v := range map[string]string{"command": in.Command, "script": in.Script, "artifact": in.Artifact, "partition": in.Partition,
		"account": in.Account, "qos": in.QOS, "timeLimit": in.TimeLimit, "mem": in.Mem, "gpus": in.GPUs} {
		if v != "" {
			job[k] = v
		}
	}
	for k, v := range map[string]int{"nodes": in.Nodes, "ntasks": in.NTasks, "cpusPerTask": in.CPUsPerTask} {
		if v != 0 {
			job[k] = v
		}
	}
	op := fmt.Sprintf("asking to run release %q", in.ReleaseID)
	body := map[string]any{"job": job, "reason": in.Reason}
	if err := s.call(req).JSON(ctx, op, "POST", "/api/v1/releases/"+in.ReleaseID+"/dispatch-requests", nil, body, &out); err != nil {
		return nil, out, toolError(op, err)
	}
	out.Next = "pending: a person with the admin scope approves it with \"slipway approve " + out.RequestID + "\" (or denies it); nothing runs before"
	return nil, out, nil
}

// RequestIn names a dispatch request.
type RequestIn struct {
	RequestID string `json:"requestId" jsonschema:"q- and 16 hex digits, as dispatch_release answered"`
}

func (s *Server) getDispatchRequest(ctx context.Context, req *mcp.CallToolRequest, in RequestIn) (*mcp.CallToolResult, DispatchRequest, error) {
	var out DispatchRequest
	if err := checkID("requestId", in.RequestID, "q-"); err != nil {
		return nil, out, err
	}
	op := fmt.Sprintf("reading dispatch request %q", in.RequestID)
	if err := s.call(req).JSON(ctx, op, "GET", "/api/v1/dispatch-requests/"+in.RequestID, nil, nil, &out); err != nil {
		return nil, out, toolError(op, err)
	}
	return nil, out, nil
}

func (s *Server) cancelJob(ctx context.Context, req *mcp.CallToolRequest, in JobIn) (*mcp.CallToolResult, Job, error) {
	var out Job
	if err := checkID("dispatchId", in.DispatchID, "d-"); err != nil {
		return nil, out, err
	}
	op := fmt.Sprintf("cancelling job %q", in.DispatchID)
	if err := s.call(req).JSON(ctx, op, "POST", "/api/v1/dispatches/"+in.DispatchID+"/cancel", nil, nil, &out); err != nil {
		return nil, out, toolError(op, err)
	}
	return nil, out, nil
}
