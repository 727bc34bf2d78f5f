package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/store"
)

// dispatchList is the JSON of GET /api/v1/dispatches.
type dispatchList struct {
	Dispatches []dispatchAnswer `json:"dispatches"`
	Next       string           `json:"next,omitempty"`
}

// listDispatches is GET /api/v1/dispatches?release=…: newest first, in
// keyset pages; states as stored (GET /api/v1/dispatches/{id} asks Slurm
// for a running job's).
func (d *dispatches) listDispatches(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	limit, after, err := parsePage(v, dispatchIDForm.Regexp(), "release")
	if err != nil {
		return err
	}
	rel := v.Get("release")
	if rel != "" && !releaseID.MatchString(rel) {
		return badParam("release", fmt.Sprintf("%q is not a release id", truncate(rel, 64)), "give r- and 16 hex digits")
	}
	list, err := d.s.cfg.Store.ListDispatches(r.Context(), store.DispatchQuery{ReleaseID: rel, After: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	out := dispatchList{Dispatches: []dispatchAnswer{}}
	now := d.s.now()
	for i, rec := range list {
		if i == limit {
			out.Next = nextPage(w, r, store.Cursor{Created: list[i-1].Created, ID: list[i-1].ID})
			break
		}
		out.Dispatches = append(out.Dispatches, dispatchAnswerOf(rec, now))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// dispatch reads the dispatch the path names.
func (d *dispatches) dispatch(r *http.Request) (store.Dispatch, error) {
	id := r.PathValue("id")
	if !dispatchIDForm.MatchString(id) {
		return store.Dispatch{}, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such dispatch",
			Detail: fmt.Sprintf("%q is not a dispatch id (d- and 16 hex digits, as the dispatch's answer gave)", id)}
	}
	rec, err := d.s.cfg.Store.Dispatch(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return rec, &Problem{Status: http.StatusNotFound, Type: "not-found", Title: "No such dispatch",
			Detail: fmt.Sprintf("dispatch %q was not recorded here; check the id and the server URL", id)}
	}
	return rec, err
}

// serverJob is the work directory of a job the server submitted, and its
// Slurm job id; a 409 for a dispatch a dispatcher recorded (its files are
// on the dispatcher's side).
func (d *dispatches) serverJob(rec store.Dispatch) (string, uint32, error) {
	nonce := nonceOf(rec.RunID)
	id, err := strconv.ParseUint(rec.JobID, 10, 32)
	if d.s.cfg.Slurm == nil || !rec.Submitted || nonce == "" || err != nil {
		return "", 0, &Problem{Status: http.StatusConflict, Type: "not-server-job", Title: "Not a job this server submitted",
			Detail: fmt.Sprintf("dispatch %q was submitted by a dispatcher, not by this server: its job's output and cancellation are the dispatcher's (slipway dispatch, scancel)", rec.ID)}
	}
	return jobWorkDir(d.s.cfg.Slurm.WorkDir, rec.ReleaseID, nonce), uint32(id), nil
}

// MaxLogTail bounds how much of a job's output GET
// /api/v1/dispatches/{id}/log returns.
const MaxLogTail = 64 << 10

// jobLog is GET /api/v1/dispatches/{id}/log?lines=N: the last N lines
// (default 50, at most 1000, and at most MaxLogTail bytes) of the standard
// output of a job the server submitted, as text; empty before the job
// writes any.
func (d *dispatches) jobLog(w http.ResponseWriter, r *http.Request) error {
	rec, err := d.dispatch(r)
	if err != nil {
		return err
	}
	lines := 50
	for name, vals := range r.URL.Query() {
		n, err := strconv.Atoi(vals[0])
		if name != "lines" || len(vals) != 1 || err != nil || n < 1 || n > 1000 {
			return badParam(name, fmt.Sprintf("%q is not accepted", truncate(vals[0], 32)), "give lines, a whole number from 1 to 1000, once")
		}
		lines = n
	}
	dir, id, err := d.serverJob(rec)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, dispatch.StateDir, fmt.Sprintf("job-%d.out", id))
	tail, err := tailFile(path, lines, MaxLogTail)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(tail)
	return err
}

// tailFile is the last lines lines of the regular file path, within its
// last limit bytes; nothing for a file not there (yet).
func tailFile(path string, lines int, limit int64) ([]byte, error) {
	f, err := regfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the job's output %q: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-limit, 0)
	buf, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return nil, fmt.Errorf("reading the job's output %q: %w", path, err)
	}
	if off > 0 { // drop the partial first line
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	trimmed := bytes.TrimSuffix(buf, []byte("\n"))
	start, end := 0, len(trimmed)
	for range lines {
		j := bytes.LastIndexByte(trimmed[:end], '\n')
		if j < 0 {
			start = 0
			break
		}
		start, end = j+1, j
	}
	buf = buf[start:]
	return bytes.ToValidUTF8(buf, []byte(string(utf8.RuneError))), nil
}

// cancelJob is POST /api/v1/dispatches/{id}/cancel (dispatch): the server
// cancels a job it submitted (scancel); its follower records the final
// state. A job that has ended already is left as it is.
func (d *dispatches) cancelJob(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rec, err := d.dispatch(r)
	if err != nil {
		return err
	}
	_, id, err := d.serverJob(rec)
	if err != nil {
		return err
	}
	if !rec.State.Final {
		if err := d.s.cfg.Slurm.Backend.Cancel(ctx, id); err != nil {
			return &Problem{Status: http.StatusBadGateway, Type: "slurm-failed", Title: "Slurm did not cancel the job",
				Detail: "cancelling the job failed; the server's log has Slurm's answer under this request id: send it again", Cause: err}
		}
		rec.State = d.liveState(ctx, rec)
	}
	_, who := callerOf(ctx)
	d.s.log.Info("dispatch cancelled", "request_id", requestID(ctx), "dispatch", rec.ID, "job_id", id, "state", rec.State.State, "identity", who)
	return writeJSON(w, http.StatusOK, dispatchAnswerOf(rec, d.s.now()))
}
