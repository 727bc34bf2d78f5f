package entry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slipway/actions/internal/canonjson"
	"github.com/slipway/actions/internal/lazyregexp"
)

// Version is the schema version this package writes and reads.
const Version = 1

// MaxSize is the largest entry Marshal writes and Parse accepts: 32 KiB,
// under the C2SP tlog-tiles limit of 65535 bytes, so that a receipt carries
// the entry base64-encoded on one line (package receipt). That is a few
// hundred artifacts and their evidence per release.
const MaxSize = 32 << 10

// Kind says what an entry records.
type Kind string

// The kinds of entry.
const (
	KindReleaseAdmitted Kind = "release-admitted"
	KindReleaseRejected Kind = "release-rejected"
	// KindDispatchAuthorized records that the control plane allowed an
	// identity to submit an admitted release as one Slurm job (Dispatch
	// says which: its idempotency key, job spec fingerprint, cluster and
	// the authorization id), before anything was submitted; Artifacts are
	// the release's.
	KindDispatchAuthorized Kind = "dispatch-authorized"
	// KindDispatchRecorded records that an admitted release was handed to
	// a Slurm cluster (Dispatch says which job, and the authorization it
	// was submitted under); Artifacts are the release's.
	KindDispatchRecorded Kind = "dispatch-recorded"
	// KindOutputsAdmitted is the admission of a dispatch's outputs: a
	// release whose provenance is of the slurm-dispatch build type, with
	// the input releases it names (Inputs) checked against the log.
	KindOutputsAdmitted Kind = "outputs-admitted"
)

// Kinds is every kind this package reads, in a fixed order.
var Kinds = []Kind{KindReleaseAdmitted, KindReleaseRejected, KindDispatchAuthorized, KindDispatchRecorded, KindOutputsAdmitted}

// Decision is the outcome an entry records.
type Decision string

// The decisions of entries: releases and outputs are admitted or
// rejected, dispatches authorized, then recorded.
const (
	DecisionAdmitted   Decision = "admitted"
	DecisionRejected   Decision = "rejected"
	DecisionAuthorized Decision = "authorized"
	DecisionRecorded   Decision = "recorded"
)

// Subject is an artifact of a release, by name and SHA-256 (lowercase hex).
type Subject struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Evidence is a bundle, provenance, SBOM or other record of the release, by
// role, name and SHA-256; Describes is the SHA-256 of the artifact it is
// about, empty when it is about the whole release.
type Evidence struct {
	Describes string `json:"describes,omitempty"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	SHA256    string `json:"sha256"`
}

// Dispatch is the Slurm job a dispatch-authorized or dispatch-recorded
// entry is about. RunID is the dispatcher's idempotency key (its workflow
// run, job and job spec; never a secret), Fingerprint the SHA-256 (64
// hex) of the canonical job spec (slurm.JobSpec.Fingerprint),
// Authorization the control plane's authorization id ("a-" and 16 hex
// digits). A dispatch-authorized entry names no job: ID and JobID are
// empty. A dispatch-recorded entry names the job: JobID is Slurm's decimal
// job id, ID the control plane's dispatch id ("d-" and 16 hex digits), and
// Authorization and Fingerprint the authorization it was submitted under
// (absent from entries written before authorizations existed).
type Dispatch struct {
	Authorization string `json:"authorization,omitempty"`
	BuilderID     string `json:"builderId,omitempty"`
	Cluster       string `json:"cluster,omitempty"`
	Fingerprint   string `json:"fingerprint,omitempty"`
	ID            string `json:"id,omitempty"`
	JobID         string `json:"jobId,omitempty"`
	Partition     string `json:"partition,omitempty"`
	RunID         string `json:"runId"`
}

// Input is a release an outputs-admitted entry's outputs were made from:
// its id and the log index of its release-admitted entry.
type Input struct {
	LogIndex uint64 `json:"logIndex"`
	Release  string `json:"release"`
}

// Entry is one log record. Its fields are declared in the sorted order of
// their JSON keys.
type Entry struct {
	Artifacts []Subject  `json:"artifacts"`
	Check     string     `json:"check,omitempty"`
	Decision  Decision   `json:"decision"`
	Dispatch  *Dispatch  `json:"dispatch,omitempty"`
	Evidence  []Evidence `json:"evidence,omitempty"`
	Inputs    []Input    `json:"inputs,omitempty"`
	Kind      Kind       `json:"kind"`
	Release   string     `json:"release"`
	Source    string     `json:"source"`
	Time      time.Time  `json:"time"`
	Uploader  string     `json:"uploader"`
	Version   int        `json:"version"`
}

var hexDigest = lazyregexp.New(`^[0-9a-f]{64}$`)

// Admits reports whether e admits its artifacts: a release-admitted or
// outputs-admitted entry, what a receipt for an artifact must be.
func (e *Entry) Admits() bool {
	return e.Decision == DecisionAdmitted && (e.Kind == KindReleaseAdmitted || e.Kind == KindOutputsAdmitted)
}

// Digest returns the digest (hex) of the artifact named name, and whether e
// names it.
func (e *Entry) Digest(name string) (string, bool) {
	for _, a := range e.Artifacts {
		if a.Name == name {
			return a.SHA256, true
		}
	}
	return "", false
}

// Marshal validates e and returns its canonical encoding. A zero Version is
// written as the current Version; Time is written in UTC.
func Marshal(e Entry) ([]byte, error) {
	if e.Version == 0 {
		e.Version = Version
	}
	e.Time = e.Time.UTC()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding log entry: %w", err)
	}
	out, err := canonjson.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalizing log entry: %w", err)
	}
	if len(out) > MaxSize {
		return nil, fmt.Errorf("log entry is %d bytes, over the limit of %d: record fewer artifacts or evidence per release", len(out), MaxSize)
	}
	return out, nil
}

// Parse decodes a canonical entry and validates it. It refuses unknown
// fields, an unknown version or kind, and any encoding that is not the
// canonical one.
func Parse(data []byte) (*Entry, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("log entry is %d bytes, over the limit of %d: this is not a Slipway log entry", len(data), MaxSize)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("decoding log entry: %w: a log entry is a JSON object", err)
	}
	if probe.Version == nil {
		return nil, errors.New(`log entry has no field "version": this is not a Slipway log entry`)
	}
	if *probe.Version != Version {
		return nil, fmt.Errorf("log entry has version %d; this slipway reads version %d: upgrade slipway to read it", *probe.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var e Entry
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("decoding log entry: %w: fields are listed in docs of package entry", err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	canon, err := Marshal(e)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, data) {
		return nil, errors.New("log entry is not in canonical form (RFC 8785: sorted keys, no whitespace, UTC time): it was not written by a Slipway log")
	}
	return &e, nil
}
