package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/lazyregexp"
	"github.com/slipway/actions/internal/tlog/entry"
)

func (d *Dashboard) jobPages() []page {
	return []page{
		{Pattern: "GET /ui/jobs", Handler: d.jobList},
		{Pattern: "GET /ui/jobs/{id}", Handler: d.jobDetail},
		{Pattern: "GET /ui/jobs/{id}/tail", Handler: d.jobTail},
	}
}

// Job is a dispatch of an admitted release to Slurm, as GET
// /api/v1/dispatches answers it.
type Job struct {
	DispatchID      string     `json:"dispatchId"`
	AuthorizationID string     `json:"authorizationId"`
	ReleaseID       string     `json:"releaseId"`
	JobID           string     `json:"jobId"`
	RunID           string     `json:"runId"`
	Cluster         string     `json:"cluster"`
	Partition       string     `json:"partition"`
	BuilderID       string     `json:"builderId"`
	Requester       string     `json:"requester"`
	Created         time.Time  `json:"created"`
	LogIndex        uint64     `json:"logIndex"`
	Submitted       bool       `json:"submitted"`
	State           string     `json:"state"`
	Node            string     `json:"node"`
	ExitCode        *int       `json:"exitCode"`
	Started         *time.Time `json:"started"`
	Ended           *time.Time `json:"ended"`
	Elapsed         string     `json:"elapsed"`
}

// Where is the job's cluster and partition as one line ("" for the
// dispatcher's default cluster and partition).
func (j Job) Where() string {
	switch {
	case j.Cluster != "" && j.Partition != "":
		return j.Cluster + "/" + j.Partition
	default:
		return j.Cluster + j.Partition
	}
}

// Live reports whether the job may still change: submitted by the server
// (which follows it) and not ended.
func (j Job) Live() bool {
	return j.Submitted && j.Ended == nil && !slices.Contains(endStates, j.State)
}

// StateClass is the style of a job state in the list: ok for COMPLETED,
// fail for another end, none while it may change.
func (jobListData) StateClass(state string) string {
	switch {
	case state == "COMPLETED":
		return "ok"
	case slices.Contains(endStates, state):
		return "fail"
	}
	return ""
}

// endStates are Slurm's job states that do not change again.
var endStates = []string{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "PREEMPTED", "SPECIAL_EXIT"}

var (
	dispatchIDForm = lazyregexp.New(`^d-[0-9a-f]{16}$`)
	releaseIDForm  = lazyregexp.New(`^r-[0-9a-f]{16}$`)
)

// jobListData is the data of jobs.html.
type jobListData struct {
	Release     string
	Jobs        []Job
	Next, First string
}

// jobList is GET /ui/jobs: dispatches newest first (GET
// /api/v1/dispatches, keyset pages), optionally of one release.
func (d *Dashboard) jobList(w http.ResponseWriter, r *http.Request, s *session) error {
	in := r.URL.Query()
	q := newListQuery("/ui/jobs", in, d.o.PageSize)
	q.search("release", in.Get("release"), false)
	data := jobListData{Release: q.Here.Get("release"), First: q.First}
	if data.Release != "" && !releaseIDForm.MatchString(data.Release) {
		return &pageError{Status: http.StatusBadRequest, Detail: fmt.Sprintf("release %q is not a release id; give r- and 16 hex digits", data.Release)}
	}
	var page struct {
		Dispatches []Job  `json:"dispatches"`
		Next       string `json:"next"`
	}
	if err := d.client(s).JSON(r.Context(), "listing jobs", "GET", "/api/v1/dispatches", q.API, nil, &page); err != nil {
		return err
	}
	data.Jobs, data.Next = page.Dispatches, q.next(page.Next)
	return d.render(w, r, s, "jobs.html", data)
}

// jobData is the data of job.html and its tail fragment.
type jobData struct {
	Job Job
	// Tail is the end of the job's standard output; TailNote says why
	// there is none.
	Tail, TailNote string
	// Outputs are the releases admitted as this job's outputs.
	Outputs []Release
	// Fragment is set for the polled fragment: the one that finds the
	// job ended also replaces the page's outputs section (htmx's
	// out-of-band swap), which the polling did not refresh.
	Fragment bool
}

// job reads the dispatch the path names.
func (d *Dashboard) job(ctx context.Context, c *cpclient.Client, id string) (Job, error) {
	var j Job
	if !dispatchIDForm.MatchString(id) {
		return j, &pageError{Status: http.StatusNotFound, Detail: fmt.Sprintf("%q is not a dispatch id (d- and 16 hex digits)", id)}
	}
	err := c.JSON(ctx, "reading job "+id, "GET", "/api/v1/dispatches/"+id, nil, nil, &j)
	return j, err
}

// jobAndTail reads the job the path names and the end of its output.
func (d *Dashboard) jobAndTail(r *http.Request, s *session) (jobData, error) {
	c := d.client(s)
	j, err := d.job(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return jobData{}, err
	}
	data := jobData{Job: j}
	return data, d.tail(r.Context(), c, &data)
}

// tail reads the end of the job's output into data.
func (d *Dashboard) tail(ctx context.Context, c *cpclient.Client, data *jobData) error {
	if !data.Job.Submitted {
		data.TailNote = "a dispatcher submitted this job, not the server: its output is on the dispatcher's side"
		return nil
	}
	out, err := c.Do(ctx, "reading the output of job "+data.Job.DispatchID, "GET", "/api/v1/dispatches/"+data.Job.DispatchID+"/log", url.Values{"lines": {"200"}}, nil)
	switch {
	case cpclient.IsStatus(err, http.StatusConflict):
		data.TailNote = "a dispatcher submitted this job, not the server: its output is on the dispatcher's side"
	case err != nil:
		return err
	case len(out) == 0:
		data.TailNote = "no output yet"
	default:
		data.Tail = string(out)
	}
	return nil
}

// jobDetail is GET /ui/jobs/{id}: the job's state, exit code, where it
// ran, the releases admitted as its outputs, and its output's tail (live
// while it runs: job.html's tail fragment polls /ui/jobs/{id}/tail).
func (d *Dashboard) jobDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.jobAndTail(r, s)
	if err != nil {
		return err
	}
	if !data.Job.Live() {
		if data.Outputs, err = outputsOf(r.Context(), d.client(s), data.Job); err != nil {
			return err
		}
	}
	return d.render(w, r, s, "job.html", data)
}

// jobTail is GET /ui/jobs/{id}/tail, the htmx fragment of the job's state
// and output: it polls itself every 2 s while the job runs, and drops its
// trigger once the job has ended, which stops the polling; that last
// fragment also brings the job's outputs section, out of band.
func (d *Dashboard) jobTail(w http.ResponseWriter, r *http.Request, s *session) error {
	data, err := d.jobAndTail(r, s)
	if err != nil {
		return err
	}
	data.Fragment = true
	if !data.Job.Live() {
		if data.Outputs, err = outputsOf(r.Context(), d.client(s), data.Job); err != nil {
			return err
		}
	}
	return d.renderFragment(w, r, s, "job.html", "tail", data)
}

// outputsOf finds the releases admitted as job j's outputs: releases of
// the input release's repository admitted since the job was recorded
// whose verified provenance says they are outputs of Slurm job j.JobID,
// each confirmed by its outputs-admitted log entry (its receipt checked)
// naming j's release as an input.
func outputsOf(ctx context.Context, c *cpclient.Client, j Job) ([]Release, error) {
	var in Release
	if err := c.JSON(ctx, "reading release "+j.ReleaseID, "GET", "/api/v1/releases/"+j.ReleaseID, nil, nil, &in); err != nil {
		return nil, err
	}
	if in.SourceRepository == "" {
		return nil, nil
	}
	q := url.Values{"repository": {in.SourceRepository}, "since": {j.Created.UTC().Format(time.RFC3339)}, "limit": {"100"}}
	var page struct {
		Releases []Release `json:"releases"`
	}
	if err := c.JSON(ctx, "finding the outputs of job "+j.DispatchID, "GET", "/api/v1/releases", q, nil, &page); err != nil {
		return nil, err
	}
	var out []Release
	var v note.Verifier
	for _, rel := range page.Releases {
		if !slices.ContainsFunc(rel.Checks, func(line string) bool { return isOutputOf(line, j.JobID) }) {
			continue
		}
		if v == nil {
			var err error
			if v, _, err = logKey(ctx, c); err != nil {
				return nil, err
			}
		}
		raw, _, err := includedEntry(ctx, c, v, rel.LogIndex)
		if err != nil {
			return nil, err
		}
		e, err := entry.Parse(raw)
		if err != nil || e.Kind != entry.KindOutputsAdmitted || e.Release != rel.ReleaseID ||
			!slices.ContainsFunc(e.Inputs, func(x entry.Input) bool { return x.Release == j.ReleaseID }) {
			continue
		}
		out = append(out, rel)
	}
	return out, nil
}

// isOutputOf reports whether a release's check line is the passed job
// check of an output of Slurm job jobID (verify's job check of
// slurm-dispatch provenance: "… Slurm job 4711 ended COMPLETED …").
func isOutputOf(line, jobID string) bool {
	return jobID != "" && strings.HasPrefix(line, "PASS job ") && strings.Contains(line, "Slurm job "+jobID+" ended ")
}
