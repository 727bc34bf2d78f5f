package follow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/slipway/actions/internal/regfile"
)

// StatusDir is the directory, inside a job's working directory, that holds
// the status files the job wrappers write.
const StatusDir = ".slipway"

// maxStatusSize bounds a status file: one small JSON object.
const maxStatusSize = 64 << 10

// StatusPath is the status file of job id in workdir (API8.md):
// <workdir>/.slipway/job-<id>.status.
func StatusPath(workdir string, id uint32) string {
	return filepath.Join(workdir, StatusDir, "job-"+strconv.FormatUint(uint64(id), 10)+".status")
}

// Status is what a job wrapper writes at its end (API8.md "status file").
type Status struct {
	Version  int    `json:"version"`
	JobID    string `json:"jobId"`
	ExitCode int    `json:"exitCode"`
	// Verified is false when exec-verified refused to run the command.
	Verified bool `json:"verified"`
	// Check and Detail say why exec-verified refused ("digest", …).
	Check  string `json:"check,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// ParseStatus decodes a status file's content and checks it belongs to job
// id. name is the file's path for errors.
func ParseStatus(name string, data []byte, id uint32) (Status, error) {
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return Status{}, fmt.Errorf("reading status file %q: %w; the job wrapper writes one JSON object (API8.md)", name, err)
	}
	if s.Version != 1 {
		return Status{}, fmt.Errorf("reading status file %q: version %d is not 1; a newer wrapper wrote it: update slipway on the headnode", name, s.Version)
	}
	if want := strconv.FormatUint(uint64(id), 10); s.JobID != want {
		return Status{}, fmt.Errorf("reading status file %q: jobId %q is not job %s; the workdir holds another job's file under this name: give each dispatch its own workdir", name, s.JobID, want)
	}
	if s.ExitCode < 0 || s.ExitCode > 255 {
		return Status{}, fmt.Errorf("reading status file %q: exitCode %d is outside 0-255", name, s.ExitCode)
	}
	return s, nil
}

// ReadStatus reads and parses job id's status file at path. It returns
// (Status{}, false, nil) when there is none yet.
func ReadStatus(path string, id uint32) (Status, bool, error) {
	data, err := regfile.ReadAll(path, maxStatusSize)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, fmt.Errorf("reading status file of job %d: %w", id, err)
	}
	s, err := ParseStatus(path, data, id)
	if err != nil {
		return Status{}, false, err
	}
	return s, true, nil
}
