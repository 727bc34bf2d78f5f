package store

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Store is the control plane's metadata. Implementations are safe for
// concurrent use; every method honours ctx.
type Store interface {
	// CreateToken records a new token; ErrExists when its ID is taken.
	CreateToken(ctx context.Context, t Token) error
	// Token returns the token with this ID; ErrNotFound when there is none.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens returns every token, oldest first.
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the token revoked at at; ErrNotFound when there is
	// none. Revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// CreateRelease records a release and its artifacts in one transaction,
	// which also removes the release intent of its manifest digest (Intents);
	// ErrExists when its ID or its manifest digest is taken.
	CreateRelease(ctx context.Context, r Release) error
	// Release returns the release with this ID and its artifacts;
	// ErrNotFound when there is none.
	Release(ctx context.Context, id string) (Release, error)
	// ReleaseByManifest returns the release recorded for this manifest
	// digest (admission is idempotent on it); ErrNotFound when there is none.
	ReleaseByManifest(ctx context.Context, manifestDigest string) (Release, error)
	// ReleaseManifest returns the manifest recorded with release id
	// (Release.Manifest); ErrNotFound when there is no such release or it
	// was recorded without one (before schema version 5).
	ReleaseManifest(ctx context.Context, id string) ([]byte, error)
	// Releases returns the releases q selects, newest first (by Created,
	// then by ID, both descending), at most q.Limit of them, each with its
	// artifacts (not its Files). Pages follow each other through q.After:
	// a release admitted while a client pages is never seen twice.
	Releases(ctx context.Context, q ReleaseQuery) ([]Release, error)

	// ArtifactByDigest returns one artifact record with this digest
	// ("sha256:<hex>") from an admitted release; ErrNotFound when no
	// release holds it (a blob stored for a release that was then refused
	// is not an admitted artifact).
	ArtifactByDigest(ctx context.Context, digest string) (Artifact, error)

	Dispatches
	DispatchRequests
	Rejections
	Intents

	// Ping checks that the store answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the store; no method may be called after it.
	Close() error
}

// Sentinel errors callers branch on (with errors.Is).
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// Token is a service token as stored: its public ID and its Argon2id hash
// in PHC form, never its secret.
type Token struct {
	// ID is the public part of the token, used to find it.
	ID string
	// Name says whose token it is (a person, a CI system); it appears in logs.
	Name string
	// Hash is the Argon2id PHC string of the whole token.
	Hash string
	// Scopes are what the token may do (upload, read, dispatch, admin).
	Scopes []string
	// Created is when the token was made.
	Created time.Time
	// Expires is when it stops working; zero for never.
	Expires time.Time
	// Revoked is when it was revoked; zero while it is not.
	Revoked time.Time
}

// Release is an admitted release: what admission checked, bound to who
// sent it. The shape is minimal on purpose; admission extends it with a
// migration when it needs more.
type Release struct {
	// ID names the release in the API and the log.
	ID string
	// SourceRepository is the repository the provenance names
	// ("github.com/owner/repo").
	SourceRepository string
	// Uploader is the verified identity that sent it (a token's name, an
	// OIDC subject).
	Uploader string
	// ManifestDigest is the "sha256:…" digest of the build manifest; one
	// release per manifest.
	ManifestDigest string
	// Created is when it was admitted.
	Created time.Time
	// Artifacts are the files the release binds, by digest.
	Artifacts []Artifact
	// Files are every record of the admitted manifest with a file, in
	// manifest order: artifacts and the evidence about them (signature
	// bundles, provenance, SBOMs, attestations). Empty for a release
	// admitted before the store kept them (schema version 3).
	Files []File
	// LogIndex is the index of the release's release-admitted entry in the
	// transparency log, and LogEntry that entry's canonical bytes.
	LogIndex uint64
	LogEntry []byte
	// Receipt is the receipt admission first returned (tlog-proof text).
	Receipt []byte
	// Checks are the lines of the verify report admission passed.
	Checks []string
	// Manifest is the admitted manifest's canonical JSON, whose SHA-256
	// is ManifestDigest: CreateRelease records it with the release (in
	// the same transaction, so that both are durable together);
	// ReleaseManifest reads it back. Release and the other reads leave it
	// nil (it can be megabytes, and answers do not need it).
	Manifest []byte
}

// Artifact is one file of a release: its blob is in the blob store under
// Digest.
type Artifact struct {
	// Digest is "sha256:<hex>".
	Digest string
	// Size is its length in bytes.
	Size int64
	// Name is its path in the manifest.
	Name string
}

// File is one record of an admitted manifest that has a file: its blob is
// in the blob store under Digest.
type File struct {
	// Role is the record's role (artifact, signature, provenance, sbom,
	// attestation).
	Role string
	// Name is the record's name, once per role in a release.
	Name string
	// Path is the file's slash-separated path in the manifest; records of
	// one bundle about several subjects share it.
	Path string
	// Digest is "sha256:<hex>".
	Digest string
	// Size is its length in bytes.
	Size int64
	// MediaType is the record's media type.
	MediaType string
	// Describes is the digest of the artifact the record is about; "" for
	// an artifact.
	Describes string
}

// MaxReleasesPage bounds ReleaseQuery.Limit (a sanity bound: the read
// API asks for pages of at most 101).
const MaxReleasesPage = 1000

// ReleaseQuery selects releases; its zero fields select everything.
type ReleaseQuery struct {
	// Repository, when set, is the source repository (in the form
	// policy.ParseRepository writes) the releases were built from.
	Repository string
	// Digest, when set ("sha256:<hex>"), selects the releases holding a
	// file (an artifact or evidence) with that digest, or made of the
	// manifest with that digest.
	Digest string
	// Since and Until, when not zero, bound Created: Since <= Created <
	// Until. Stores compare whole milliseconds (as they keep Created).
	Since, Until time.Time
	// After, when set, is the position of the last release of the previous
	// page: only releases after it (older) are returned.
	After *Cursor
	// Limit is how many releases to return at most: 1 to MaxReleasesPage.
	Limit int
}

// Cursor is a position in the newest-first order of releases: the
// creation time and ID of one release.
type Cursor struct {
	Created time.Time
	ID      string
}

// CursorOf is the position of r.
func CursorOf(r Release) Cursor { return Cursor{Created: r.Created, ID: r.ID} }

// Dispatches are the records of admitted releases handed to a Slurm
// cluster: by a dispatcher (slipway dispatch, which records its job), or by
// the server itself (slipway serve --slurm), which also keeps the job's
// state here. They are a separate interface so that a caller needing only
// them says so; every Store implements it.
type Dispatches interface {
	// CreateDispatch records a dispatch and removes the dispatch intent of
	// its ID (Intents) in one transaction; ErrExists when its ID is taken,
	// ErrNotFound when its release is not recorded.
	CreateDispatch(ctx context.Context, d Dispatch) error
	// Dispatch returns the dispatch with this ID; ErrNotFound when there is
	// none.
	Dispatch(ctx context.Context, id string) (Dispatch, error)
	// SetDispatchState records the job's latest state (a Final state is
	// kept: a later call does not change it); ErrNotFound when there is no
	// such dispatch.
	SetDispatchState(ctx context.Context, id string, s DispatchState) error
	// UnfinishedDispatches returns the dispatches the server submitted
	// whose state is not final, oldest first: what a restarted server
	// follows again.
	UnfinishedDispatches(ctx context.Context) ([]Dispatch, error)

	// CreateDispatchAuthorization records an authorization and removes
	// the authorization intent of its ID (Intents) in one transaction;
	// ErrExists when its ID is taken, ErrNotFound when its release is not
	// recorded.
	CreateDispatchAuthorization(ctx context.Context, a DispatchAuthorization) error
	// DispatchAuthorization returns the authorization with this ID;
	// ErrNotFound when there is none.
	DispatchAuthorization(ctx context.Context, id string) (DispatchAuthorization, error)
}

// DispatchAuthorization is the control plane's permission, given before
// anything is submitted, for one identity to run an admitted release as
// the one Slurm job whose spec has Fingerprint, under the idempotency key
// RunID. A dispatch is recorded only against a matching authorization.
type DispatchAuthorization struct {
	// ID is "a-" and 16 hex digits, a function of ReleaseID and RunID (a
	// re-run of the same workflow attempt finds it).
	ID        string
	ReleaseID string
	// RunID is the dispatcher's idempotency key (the job's comment).
	RunID string
	// Fingerprint is the SHA-256 (64 hex) of the canonical job spec
	// (slurm.JobSpec.Fingerprint).
	Fingerprint string
	// Cluster and Partition are where the job may run; "" when unnamed.
	Cluster, Partition string
	// BuilderID is the dispatcher's configured id.
	BuilderID string
	// Requester is the identity it authorizes, by name; never a
	// credential.
	Requester string
	// Created is when it was given.
	Created time.Time
	// LogIndex and LogEntry are its dispatch-authorized log entry,
	// Receipt that entry's receipt (tlog-proof text).
	LogIndex uint64
	LogEntry []byte
	Receipt  []byte
}

// Dispatch is one dispatch of an admitted release to a Slurm cluster.
type Dispatch struct {
	// ID is "d-" and 16 hex digits, a function of ReleaseID, RunID and
	// JobID (recording the same dispatch again finds it).
	ID        string
	ReleaseID string
	// RunID is the dispatcher's idempotency key (the job's comment).
	RunID string
	// JobID is Slurm's job id, decimal.
	JobID string
	// Cluster and Partition are where the job runs; "" when unnamed (the
	// local cluster, the default partition).
	Cluster, Partition string
	// BuilderID is the dispatcher's configured id (the headnode runner's).
	BuilderID string
	// Requester is the identity that recorded or asked for the dispatch,
	// by name; never a credential.
	Requester string
	// Created is when it was recorded.
	Created time.Time
	// LogIndex and LogEntry are its dispatch-recorded log entry, Receipt
	// that entry's receipt (tlog-proof text).
	LogIndex uint64
	LogEntry []byte
	Receipt  []byte
	// Submitted is true when the server submitted the job itself (and so
	// follows its state).
	Submitted bool
	// State is the job's latest known state.
	State DispatchState
}

// DispatchState is what is known of a dispatched job's progress.
type DispatchState struct {
	// State is Slurm's job state (PENDING, RUNNING, COMPLETED, …); "" when
	// not known (a dispatch a dispatcher recorded).
	State string
	// ExitCode is the batch script's exit status; -1 when not known.
	ExitCode int
	// Started and Ended are when the job started and ended; zero when not
	// known (yet).
	Started, Ended time.Time
	// Final says State is the job's last (it will not change again).
	Final bool
	// Node is where the job runs or ran, as Slurm names it (its node
	// list: "node1", "node[1-4]"); empty while it waits or when not known.
	Node string
}

// DispatchRequests are requests to run an admitted release that wait for
// a person's approval (the MCP server's dispatch_release, for one):
// recorded pending, then approved (and submitted) or denied by an admin.
// Every Store implements it.
type DispatchRequests interface {
	// CreateDispatchRequest records a pending request; ErrExists when its
	// ID is taken, ErrNotFound when its release is not recorded.
	CreateDispatchRequest(ctx context.Context, r DispatchRequest) error
	// DispatchRequest returns the request with this ID; ErrNotFound when
	// there is none.
	DispatchRequest(ctx context.Context, id string) (DispatchRequest, error)
	// DispatchRequests returns the requests q selects, newest first (by
	// Created, then ID, both descending), keyset-paginated like Releases.
	DispatchRequests(ctx context.Context, q DispatchRequestQuery) ([]DispatchRequest, error)
	// DecideDispatchRequest moves request id from state from to the
	// state, decider, decision time, dispatch id and detail of to (its
	// other fields are ignored): ErrNotFound when there is no such
	// request, ErrStateChanged when it is no longer in state from (another
	// admin decided it first).
	DecideDispatchRequest(ctx context.Context, id, from string, to DispatchRequest) error
	// ListDispatches returns the dispatches q selects, newest first (by
	// Created, then ID, both descending), keyset-paginated.
	ListDispatches(ctx context.Context, q DispatchQuery) ([]Dispatch, error)
}

// ErrStateChanged is DecideDispatchRequest's answer for a request that is
// no longer in the state the caller expected.
var ErrStateChanged = errors.New("state changed")

// The states of a dispatch request.
const (
	// RequestPending waits for an admin's decision.
	RequestPending = "pending"
	// RequestApproved was approved and submitted: DispatchID names the
	// dispatch.
	RequestApproved = "approved"
	// RequestDenied was refused by an admin.
	RequestDenied = "denied"
	// RequestFailed was approved but could not be submitted (the
	// policy's limits changed, Slurm refused it): Detail says why.
	RequestFailed = "failed"
)

// DispatchRequest is a request to run an admitted release as a Slurm job,
// waiting for, or decided by, a person with the admin scope.
type DispatchRequest struct {
	// ID is "q-" and 16 random hex digits.
	ID        string
	ReleaseID string
	// Job is the job asked for: the JSON body of POST
	// /api/v1/releases/{id}/dispatch, kept as sent (checked when made).
	Job []byte
	// Requester is the identity that asked, by name; never a credential.
	Requester string
	// Reason is what the requester said the run is for ("" when nothing).
	Reason  string
	Created time.Time
	// State is RequestPending, RequestApproved, RequestDenied or
	// RequestFailed.
	State string
	// Decider is the admin identity that approved or denied it, Decided
	// when; empty while pending.
	Decider string
	Decided time.Time
	// DispatchID is the dispatch its approval submitted; Detail what the
	// decider or the submission said.
	DispatchID string
	Detail     string
}

// DispatchRequestQuery selects dispatch requests; zero fields select all.
type DispatchRequestQuery struct {
	// State, when set, is the requests' state (RequestPending, …).
	State string
	// After, when set, is the last request of the previous page.
	After *Cursor
	// Limit is 1 to MaxReleasesPage.
	Limit int
}

// DispatchQuery selects dispatches; zero fields select all.
type DispatchQuery struct {
	// ReleaseID, when set, is the dispatched release.
	ReleaseID string
	// After, when set, is the last dispatch of the previous page.
	After *Cursor
	// Limit is 1 to MaxReleasesPage.
	Limit int
}

// Rejections are the admissions the server refused, each recorded after
// its release-rejected log entry so that they can be listed and searched.
// The log entry is the source of truth; its intent (Intents), written
// before the entry, lets a server stopped between the two finish the row.
// Every Store implements it.
type Rejections interface {
	// CreateRejection records r and removes the rejection intent of its
	// manifest digest (Intents) in one transaction; ErrExists when a
	// rejection with its log index is recorded.
	CreateRejection(ctx context.Context, r Rejection) error
	// Rejections returns the rejections q selects, newest first (by
	// Created, then LogIndex, both descending), keyset-paginated like
	// Releases.
	Rejections(ctx context.Context, q RejectionQuery) ([]Rejection, error)
}

// Rejection is a refused admission: what its release-rejected log entry
// says, and the failed check.
type Rejection struct {
	// LogIndex is the index of the release-rejected entry: the key.
	LogIndex uint64
	// Created is when it was refused (the entry's time).
	Created time.Time
	// ReleaseID is the id the release would have had (a function of its
	// manifest), ManifestDigest the "sha256:…" digest of that manifest.
	ReleaseID      string
	ManifestDigest string
	// Repository is the source repository the verified provenance names
	// (in the form policy.ParseRepository writes when it parses); "" when
	// the refusal came before the provenance verified.
	Repository string
	// Uploader is the identity that sent it, by name; never a credential.
	Uploader string
	// Check is the failed check (a verify check name, uploader, …),
	// Subject what it was about, Detail the check's report line and how
	// to fix it (the 422 answer's detail).
	Check, Subject, Detail string
}

// RejectionQuery selects rejections; its zero fields select everything.
type RejectionQuery struct {
	// Repository, when set, is the source repository.
	Repository string
	// Since and Until, when not zero, bound Created: Since <= Created <
	// Until (whole milliseconds).
	Since, Until time.Time
	// After, when set, is the position of the last rejection of the
	// previous page: its Created and its LogIndex in decimal as ID.
	After *Cursor
	// Limit is 1 to MaxReleasesPage.
	Limit int
}

// RejectionCursor is the position of r in the newest-first order of
// rejections (RejectionQuery.After).
func RejectionCursor(r Rejection) Cursor {
	return Cursor{Created: r.Created, ID: strconv.FormatUint(r.LogIndex, 10)}
}

// Intents are the log entries the server is about to append, each written
// before its append with the exact entry bytes and the row to record once
// the log has taken it, so that a server stopped (or a request failed)
// between the append and the row leaves a pending intent to finish, never
// an entry no row knows. Creating the row (CreateRelease, CreateRejection,
// CreateDispatch, CreateDispatchAuthorization) removes its intent in the
// same transaction. Every Store implements it.
type Intents interface {
	// CreateIntent records a pending intent; ErrExists when one with its
	// key is pending (another request's, or a failed one's: finish that).
	CreateIntent(ctx context.Context, i Intent) error
	// Intent returns the pending intent with this key; ErrNotFound when
	// there is none.
	Intent(ctx context.Context, key string) (Intent, error)
	// PendingIntents returns every pending intent, oldest first: what a
	// starting server finishes.
	PendingIntents(ctx context.Context) ([]Intent, error)
	// DeleteIntent removes the pending intent of this key and kind (its
	// row turned out to be recorded already); no error when there is none.
	DeleteIntent(ctx context.Context, key, kind string) error
	// HighestLogIndex is the highest log index a release, rejection,
	// dispatch or dispatch authorization records; ok is false when there
	// is none.
	HighestLogIndex(ctx context.Context) (index uint64, ok bool, err error)
	// CountLogIndexes is how many rows of those tables record a log index.
	CountLogIndexes(ctx context.Context) (uint64, error)
	// VisitLogIndexes calls visit with the log index of every row of those
	// tables, in no particular order (a scan: for a start-up check that
	// found CountLogIndexes short of the highest index).
	VisitLogIndexes(ctx context.Context, visit func(index uint64)) error
}

// The kinds of an intent: which row it becomes.
const (
	IntentRelease       = "release"       // Record is a Release; Key its ManifestDigest
	IntentRejection     = "rejection"     // Record is a Rejection; Key its ManifestDigest
	IntentDispatch      = "dispatch"      // Record is a Dispatch; Key its ID
	IntentAuthorization = "authorization" // Record is a DispatchAuthorization; Key its ID
)

// Intent is a log entry decided on and not yet known to be both logged and
// recorded.
type Intent struct {
	// Key is what makes the request idempotent: the manifest digest of a
	// release or rejection (one decision per manifest at a time), the ID
	// of a dispatch or dispatch authorization.
	Key string
	// Kind is IntentRelease, IntentRejection, IntentDispatch or
	// IntentAuthorization.
	Kind string
	// Created is when it was written.
	Created time.Time
	// Owner names the server that wrote it (its host and data
	// directory): a server starting finishes its own at once, and another
	// replica's only when it is old enough that its writer has failed.
	Owner string
	// LogSize is the log's size before the entry was appended (a lower
	// bound): the entry, if the log has it, is at this index or later.
	LogSize uint64
	// Entry is the exact entry bytes to append (and to look for).
	Entry []byte
	// Record is the row to write once the entry is logged (the server's
	// JSON of it, without the log index and receipt).
	Record []byte
}
