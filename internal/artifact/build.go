package artifact

import "time"

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
	// Toolchains lists the tools found on the build host, with versions.
	Toolchains []Tool `json:"toolchains,omitempty"`
	// StartedOn and FinishedOn bound the build command's run.
	StartedOn  time.Time `json:"startedOn"`
	FinishedOn time.Time `json:"finishedOn"`
}

// Tool is one toolchain component, such as {"go", "go1.26.8"}.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// URI identifies the tool in provenance, e.g. "pkg:golang/toolchain@go1.26.8".
	URI string `json:"uri,omitempty"`
}
