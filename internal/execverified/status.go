package execverified

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/slipway/actions/internal/atomicfile"
)

// Status is the job's status file (API8.md): exec-verified writes it when
// it refuses; the job script writes it otherwise, once the command ended.
type Status struct {
	Version  int    `json:"version"`
	JobID    string `json:"jobId"`
	ExitCode int    `json:"exitCode"`
	Verified bool   `json:"verified"`
	Check    string `json:"check,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// writeStatus writes the refusal re to path atomically.
func writeStatus(path, jobID string, re *RefusedError) error {
	if _, err := strconv.ParseUint(jobID, 10, 32); err != nil {
		jobID = ""
	}
	st := Status{Version: 1, JobID: jobID, ExitCode: int(re.Code), Check: re.Check, Detail: re.Detail}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(st)
	})
}
