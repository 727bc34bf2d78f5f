package artifact

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/slipway/actions/internal/digest"
)

// BuildInfo records how the artifacts of a manifest were made, for
// provenance: what ran, on which source, with which tools, and when.
type BuildInfo struct {
	// Command is the build command as the user gave it.
	Command string `json:"command,omitempty"`
	// Repository is the source repository URI (e.g.
	// "git+https://github.com/o/r"), when known.
	Repository string `json:"repository,omitempty"`
	// Ref is the git ref that was built (e.g. "refs/heads/main"), when known.
	Ref string `json:"ref,omitempty"`
	// Commit is the full git commit hash of the source tree.
	Commit string `json:"commit,omitempty"`
	// Dirty is true when the work tree had changes not in Commit.
	Dirty bool `json:"dirty"`
	// SourceDateEpoch is the commit time (seconds since the Unix epoch)
	// given to the build as SOURCE_DATE_EPOCH and used for archive mtimes.
	SourceDateEpoch int64 `json:"sourceDateEpoch"`
	// Toolchains are the toolchains the build declared (its toolchains
	// input), with versions and executables; never what is merely
	// installed.
	Toolchains []Tool `json:"toolchains,omitempty"`
	// Traced is true when the command ran traced: Executed then lists every
	// executable it ran, and only those.
	Traced bool `json:"traced,omitempty"`
	// Executed are the executables the traced command ran, sorted by path.
	Executed []Executable `json:"executed,omitempty"`
	// StartedOn and FinishedOn bound the build command's run.
	StartedOn  time.Time `json:"startedOn"`
	FinishedOn time.Time `json:"finishedOn"`
}

// Tool is one declared toolchain, such as {"go", "go1.26.8"}.
type Tool struct {
	Name string `json:"name"`
	// Version is empty when the tool did not tell it.
	Version string `json:"version,omitempty"`
	// URI identifies the tool in provenance, e.g. "pkg:golang/toolchain@go1.26.8".
	URI string `json:"uri,omitempty"`
	// Executable is the file the name resolved to on the build's PATH.
	Executable *Executable `json:"executable,omitempty"`
}

// Executable is a program file, by path and content.
type Executable struct {
	// Path is absolute, symbolic links resolved.
	Path   string
	Digest digest.SHA256
}

type executableJSON struct {
	Path   string    `json:"path"`
	Digest digestSet `json:"digest"`
}

// MarshalJSON writes the digest as an in-toto digest set.
func (e Executable) MarshalJSON() ([]byte, error) {
	return json.Marshal(executableJSON{Path: e.Path, Digest: digestSet{SHA256: e.Digest.Hex()}})
}

// UnmarshalJSON reads an executable and checks its digest.
func (e *Executable) UnmarshalJSON(b []byte) error {
	var j executableJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d, err := digest.ParseHex(j.Digest.SHA256)
	if err != nil {
		return fmt.Errorf("executable %q: field \"digest.sha256\": %w", j.Path, err)
	}
	*e = Executable{Path: j.Path, Digest: d}
	return nil
}
