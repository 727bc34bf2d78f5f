package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mirror"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/timeouts"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/verify"
	"github.com/slipway/actions/internal/workspace"
)

// MaxManifestSize bounds the body of POST /api/v1/releases.
const MaxManifestSize = 4 << 20

// CheckUploader names the uploader rule check in rejections; the other
// check names are internal/verify's.
const CheckUploader = "uploader"

// releaseRequest is a parsed admission request: the manifest without its
// receipt records, its digest and the release id derived from it.
type releaseRequest struct {
	manifest *artifact.Manifest
	digest   digest.SHA256 // of the canonical JSON of manifest (or of the reference)
	canon    []byte        // that canonical JSON, kept with the release once admitted
	id       string
	// evidence is logged besides the manifest's records: the referrers and
	// cosign tags of an image admitted by reference.
	evidence []entry.Evidence
	// image is the image of an admission by reference, and files every
	// manifest and blob of its copy.
	image name.Digest
	files []store.File
}

// parseReleaseRequest reads an admission request's body: a build manifest
// as slipway build wrote it. Receipt records are dropped (a client adds
// them after admission), and the rest is canonicalised (RFC 8785) and
// hashed, so that the same manifest, with or without its receipts and
// however indented, is the same release.
func parseReleaseRequest(body []byte) (*releaseRequest, error) {
	m, err := artifact.Decode(bytes.NewReader(body), "request body")
	if err != nil {
		return nil, err
	}
	a, err := artifact.AdmittedAs(m)
	if err != nil {
		return nil, fmt.Errorf(`manifest "request body": %w`, err)
	}
	return &releaseRequest{manifest: a.Manifest, digest: a.Digest, canon: a.Canonical, id: a.ID}, nil
}

// releaseAnswer is the JSON of an admitted release (201, 200, GET).
type releaseAnswer struct {
	ReleaseID      string           `json:"releaseId"`
	LogIndex       uint64           `json:"logIndex"`
	Receipt        string           `json:"receipt"`
	ManifestDigest string           `json:"manifestDigest"`
	SourceRepo     string           `json:"sourceRepository,omitempty"`
	Uploader       string           `json:"uploader"`
	Created        time.Time        `json:"created"`
	Artifacts      []answerArtifact `json:"artifacts"`
	Checks         []string         `json:"checks"`
}

type answerArtifact struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

func answerOf(r store.Release) releaseAnswer {
	a := releaseAnswer{ReleaseID: r.ID, LogIndex: r.LogIndex, Receipt: string(r.Receipt), ManifestDigest: r.ManifestDigest,
		SourceRepo: r.SourceRepository, Uploader: r.Uploader, Created: r.Created.UTC(), Checks: r.Checks,
		Artifacts: make([]answerArtifact, len(r.Artifacts))}
	for i, x := range r.Artifacts {
		a.Artifacts[i] = answerArtifact{Name: x.Name, Digest: x.Digest, Size: x.Size}
	}
	return a
}

// admitter runs admissions; one per server.
type admitter struct {
	s        *Server
	verifier *verify.Verifier
	staging  string
	// policy is the server's, with receipts off; registry reaches the
	// registries of admissions by reference.
	policy   *policy.Policy
	registry http.RoundTripper

	staged stagingDirs

	mu       sync.Mutex
	inflight map[digest.SHA256]chan struct{} // one admission per manifest at a time
}

func newAdmitter(s *Server) *admitter {
	// Admission verifies a manifest whose receipts were dropped: it is
	// what makes them. The policy's log section is for verify and dispatch.
	p := *s.cfg.Policy
	p.Log.Receipts = policy.ReceiptsOff
	return &admitter{s: s, verifier: verify.New(&p, verify.WithLogger(s.log)), policy: &p, registry: s.registryTransport(),
		staging: s.cfg.Staging, inflight: map[digest.SHA256]chan struct{}{}}
}

// registryTransport reaches the registries releases name: Config's, or
// mirror.Guard with default timeouts.
func (s *Server) registryTransport() http.RoundTripper {
	if s.cfg.RegistryTransport != nil {
		return s.cfg.RegistryTransport
	}
	return mirror.Guard(timeouts.Config{}, s.cfg.AllowPrivateRegistries)
}

// begin waits until no other admission of d runs, then claims d; the
// caller calls the returned function when done. waited says whether
// another admission of d ran meanwhile (which may have admitted it).
// Admissions of different manifests never wait for each other here.
func (a *admitter) begin(ctx context.Context, d digest.SHA256) (done func(), waited bool, err error) {
	for {
		a.mu.Lock()
		ch, busy := a.inflight[d]
		if !busy {
			ch = make(chan struct{})
			a.inflight[d] = ch
			a.mu.Unlock()
			return func() {
				a.mu.Lock()
				delete(a.inflight, d)
				a.mu.Unlock()
				close(ch)
			}, waited, nil
		}
		a.mu.Unlock()
		waited = true
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, waited, context.Cause(ctx)
		}
	}
}

// admit is POST /api/v1/releases.
func (a *admitter) admit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxManifestSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &Problem{Status: http.StatusRequestEntityTooLarge, Type: "too-large", Title: "Manifest too large",
				Detail: fmt.Sprintf("the manifest is larger than the limit of %d bytes (4 MiB): send the manifest slipway build wrote, or split the release", int64(MaxManifestSize))}
		}
		return &Problem{Status: http.StatusBadRequest, Type: "bad-request", Title: "Unreadable body", Detail: "the request body could not be read; send it again", Cause: err}
	}
	byReference := isReferenceRequest(r)
	var req *releaseRequest
	if byReference {
		if req, err = parseReferenceRequest(body); err != nil {
			return &Problem{Status: http.StatusBadRequest, Type: "bad-reference", Title: "Not an image reference", Detail: err.Error()}
		}
	} else if req, err = parseReleaseRequest(body); err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Not a build manifest", Detail: err.Error()}
	}
	if rel, err := a.s.cfg.Store.ReleaseByManifest(ctx, req.digest.String()); err == nil {
		return writeJSON(w, http.StatusOK, answerOf(rel))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	done, waited, err := a.begin(ctx, req.digest)
	if err != nil {
		return err
	}
	defer done()
	if waited {
		// Another request may have admitted it while this one waited.
		if rel, err := a.s.cfg.Store.ReleaseByManifest(ctx, req.digest.String()); err == nil {
			return writeJSON(w, http.StatusOK, answerOf(rel))
		}
	}
	// A decision on this manifest logged (or about to be) by a request
	// that failed before recording it: finished, and answered as decided.
	if f, err := a.s.pendingIntent(ctx, req.digest.String()); err != nil {
		return err
	} else if f != nil {
		if f.kind == store.IntentRejection {
			return refused(w, r, f.rejection, f.receipt)
		}
		return writeJSON(w, http.StatusOK, answerOf(f.release))
	}
	if byReference {
		return a.runReference(w, r, req)
	}
	return a.run(w, r, req)
}

// run stages, verifies, checks the uploader, logs and records one release.
func (a *admitter) run(w http.ResponseWriter, r *http.Request, req *releaseRequest) error {
	ctx := r.Context()
	_, who := callerOf(ctx)
	m := req.manifest
	for _, rec := range m.ByRole(artifact.RoleArtifact) {
		if rec.Path == "" {
			return a.reject(w, r, req, who, "", verify.Check{Check: "upload", Subject: rec.Name,
				Message: fmt.Sprintf("artifact %q is an image in a registry (%s), which admission by upload cannot read: admit it by reference (slipway upload --reference %s), or upload a manifest of files", rec.Name, rec.URI, rec.URI)})
		}
	}
	sd, err := a.stage(ctx, req)
	if err != nil {
		return err
	}
	defer a.unstage(sd)
	rep, err := a.verifier.VerifyManifest(ctx, m, sd.path)
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Not a build manifest", Detail: err.Error()}
	}
	return a.conclude(w, r, req, rep, sd.path)
}

// conclude decides on a verified release: a failed check, several source
// repositories or an uploader the policy does not allow are refused (and
// logged); otherwise the release is logged, recorded and answered 201.
// dir is what to take out of the report's paths.
func (a *admitter) conclude(w http.ResponseWriter, r *http.Request, req *releaseRequest, rep *verify.Report, dir string) error {
	ctx := r.Context()
	caller, who := callerOf(ctx)
	m := req.manifest
	checks := reportLines(rep, dir)
	if failed := rep.Failed(); len(failed) > 0 {
		return a.reject(w, r, req, who, sourceOf(rep), clean(failed[0], dir))
	}
	inputs, inputSource, failed, err := a.dispatchInputs(ctx, rep)
	if err != nil {
		return err
	}
	if failed != nil {
		return a.reject(w, r, req, who, sourceOf(rep), *failed)
	}
	source, err := singleSource(rep)
	if err == nil && inputs != nil {
		// A dispatch's outputs belong to the repository of the release it ran.
		if source != "" && source != inputSource {
			err = fmt.Errorf("the outputs' provenance names the source repository %q, but their input releases are of %q; outputs belong to the repository of the release the job ran", source, inputSource)
		}
		source = inputSource
	}
	if err != nil {
		return a.reject(w, r, req, who, "", verify.Check{Check: verify.CheckSource, Subject: m.ByRole(artifact.RoleArtifact)[0].Name, Message: err.Error()})
	}
	if d := a.s.cfg.Policy.AllowUpload(caller, source); !d.Allowed {
		return a.reject(w, r, req, who, source, verify.Check{Check: CheckUploader, Subject: who, Message: d.Reason})
	} else {
		checks = append(checks, "PASS "+CheckUploader+"   "+who+": "+d.Reason)
	}
	// The sender is allowed: an OIDC ID token is now used up (a replayed
	// one is refused here); a service token is not consumed.
	if err := ConsumeOIDC(ctx); err != nil {
		return err
	}
	e := releaseEntry(req, m, who, source, a.s.now())
	if inputs != nil {
		e.Kind, e.Inputs = entry.KindOutputsAdmitted, inputs
	}
	raw, err := entry.Marshal(e)
	if err != nil {
		return &Problem{Status: http.StatusUnprocessableEntity, Type: "too-large", Title: "Release too large for the log", Detail: err.Error()}
	}
	rel := store.Release{ID: req.id, SourceRepository: source, Uploader: who, ManifestDigest: req.digest.String(),
		Created: e.Time, Checks: checks,
		// The admitted manifest is kept with the release (one commit, no
		// file of its own), so that the release can be read back, verified
		// again and exported (GET …/manifest).
		Manifest: req.canon}
	for _, x := range m.ByRole(artifact.RoleArtifact) {
		rel.Artifacts = append(rel.Artifacts, store.Artifact{Name: x.Name, Digest: x.Digest.String(), Size: x.Size})
	}
	rel.Files = append(filesOf(m), req.files...)
	// The intent first (the entry and this row), then the entry: a failure
	// after the append leaves the intent, which the same manifest sent
	// again (or the next start) finishes with this entry (intents.go).
	rc, err := a.s.appendIntent(ctx, store.IntentRelease, rel.ManifestDigest, raw, rel)
	if err != nil {
		return err
	}
	rel.LogIndex, rel.LogEntry, rel.Receipt = rc.Index, raw, rc.Marshal()
	if err := a.s.cfg.Store.CreateRelease(context.WithoutCancel(ctx), rel); err != nil {
		if errors.Is(err, store.ErrExists) { // a stale intent of it finished by another replica
			if first, err := a.s.cfg.Store.ReleaseByManifest(ctx, req.digest.String()); err == nil {
				a.s.recorded(rel.ManifestDigest)
				return writeJSON(w, http.StatusOK, answerOf(first))
			}
		}
		return err // the intent stays pending: the same manifest again finishes it
	}
	a.s.recorded(rel.ManifestDigest)
	a.s.log.Info("release admitted", "request_id", requestID(ctx), "release", rel.ID, "log_index", rc.Index, "source", source, "identity", who)
	w.Header().Set("Location", "/api/v1/releases/"+rel.ID)
	return writeJSON(w, http.StatusCreated, answerOf(rel))
}

// now is the server's clock (injectable later; UTC, whole seconds are not
// needed: entry times are RFC 3339 with fractions).
func (s *Server) now() time.Time { return time.Now().UTC() }

// callerOf turns the identity the auth middleware found (a service token
// or an OIDC ID token) into the caller uploader rules match, and the name
// logs and entries show.
func callerOf(ctx context.Context) (policy.Caller, string) {
	id, ok := IdentityFrom(ctx)
	if !ok {
		return policy.Caller{}, "anonymous"
	}
	return id.Caller(), id.String()
}

// stage materialises the request's records with a path in an empty
// directory under the staging root, each a hard link to its stored blob at
// the record's path, resolved inside the directory (internal/workspace):
// nothing is written outside it. A record whose blob is missing is a 409.
// The caller hands the directory back with unstage.
func (a *admitter) stage(ctx context.Context, req *releaseRequest) (stagingDir, error) {
	sd, err := a.staged.take(a.staging)
	if err != nil {
		return stagingDir{}, err
	}
	for _, rec := range req.manifest.Records {
		if rec.Path == "" {
			continue
		}
		err := a.place(ctx, sd.root, rec)
		if artifact.CheckPath(rec.Path) == nil {
			// What place may have made, for unstage: a clean relative
			// path's first element, a name in the directory.
			top, _, _ := strings.Cut(rec.Path, "/")
			if !slices.Contains(sd.placed, top) {
				sd.placed = append(sd.placed, top)
			}
		}
		if err != nil {
			a.unstage(sd)
			return stagingDir{}, err
		}
	}
	return sd, nil
}

// unstage empties a staging directory and keeps it for the next admission.
func (a *admitter) unstage(sd stagingDir) { a.staged.put(sd) }

// place links rec's blob at rec.Path inside root.
func (a *admitter) place(ctx context.Context, root *workspace.Root, rec artifact.Record) error {
	if err := artifact.CheckPath(rec.Path); err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Bad record path", Detail: fmt.Sprintf("record %q: field \"path\" %v", rec.Name, err)}
	}
	dst, err := root.Resolve(rec.Path)
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Bad record path",
			Detail: fmt.Sprintf("record %q: path %q does not stay in the release: %v; give every record its own clean relative path", rec.Name, rec.Path, err)}
	}
	if parent := filepath.Dir(dst); parent != root.Dir() { // the staging directory exists
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Bad record path",
				Detail: fmt.Sprintf("record %q: path %q collides with another record's path (%v); give every record its own path", rec.Name, rec.Path, err)}
		}
	}
	// Linked first, looked at only when that fails: a link never replaces
	// what is at dst, and a path no other record took (nearly every one)
	// costs no lookup of its own.
	err = a.link(ctx, rec.Digest, dst)
	if err != nil {
		if _, lerr := os.Lstat(dst); lerr == nil {
			if blob, err := a.s.cfg.Blobs.Stat(ctx, rec.Digest); err == nil && blob.Size >= 0 {
				// A file two records share (a bundle recorded per subject):
				// it must be the same content.
				d, _, err := digest.FileContext(ctx, dst)
				if err == nil && d == rec.Digest {
					return nil
				}
			}
			return &Problem{Status: http.StatusBadRequest, Type: "bad-manifest", Title: "Bad record path",
				Detail: fmt.Sprintf("record %q: path %q is recorded twice with different digests or collides with a directory; give every file one digest", rec.Name, rec.Path)}
		}
	}
	if errors.Is(err, blobstore.ErrNotFound) {
		return &Problem{Status: http.StatusConflict, Type: "missing-blob", Title: "Blob not uploaded",
			Detail: fmt.Sprintf("record %q (%s) names blob %q, which is not stored here: upload it first (PUT %s<upload>?digest=%s), then send the manifest again", rec.Name, rec.Role, rec.Digest, uploadPrefix, rec.Digest)}
	}
	return err
}

// link puts blob d at dst: a hard link where the store allows, else a
// streamed copy.
func (a *admitter) link(ctx context.Context, d digest.SHA256, dst string) error {
	if l, ok := a.s.cfg.Blobs.(blobstore.Linker); ok {
		return l.LinkTo(ctx, d, dst)
	}
	src, err := a.s.cfg.Blobs.Open(ctx, d)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o400)
	if err != nil {
		return fmt.Errorf("staging blob %q: %w", d, err)
	}
	if _, err := io.Copy(f, digest.ContextReader(ctx, src)); err != nil {
		f.Close()
		return fmt.Errorf("staging blob %q: %w", d, err)
	}
	return f.Close()
}

// reportLines are the verify report's lines, without the staging path.
func reportLines(rep *verify.Report, dir string) []string {
	var out []string
	for _, s := range rep.Subjects {
		for _, c := range s.Checks {
			out = append(out, clean(c, dir).Line())
		}
	}
	return out
}

// clean takes the staging directory out of a check's paths and message.
func clean(c verify.Check, dir string) verify.Check {
	if dir == "" {
		return c
	}
	prefix := dir + string(filepath.Separator)
	c.Bundle = strings.TrimPrefix(c.Bundle, prefix)
	c.Message = strings.ReplaceAll(c.Message, prefix, "")
	return c
}

// sourceOf is the first source repository a verified provenance names, for
// a rejection's entry; "" when none.
func sourceOf(rep *verify.Report) string {
	for _, s := range rep.Subjects {
		if len(s.Sources) > 0 {
			return s.Sources[0]
		}
	}
	return ""
}

// singleSource is the one source repository the release's verified
// provenance names (normalized when it parses); "" when it names none.
func singleSource(rep *verify.Report) (string, error) {
	var found []string
	for _, s := range rep.Subjects {
		for _, src := range s.Sources {
			if n, err := policy.ParseRepository(src); err == nil {
				src = n
			}
			if !slices.Contains(found, src) {
				found = append(found, src)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the release's provenance names several source repositories %q: a release is built from one repository; upload the artifacts of each repository as a release of its own", found)
}

// releaseEntry is the log entry of an admission (kind admitted) of m.
func releaseEntry(req *releaseRequest, m *artifact.Manifest, who, source string, at time.Time) entry.Entry {
	e := entry.Entry{Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted, Release: req.id,
		Source: source, Uploader: who, Time: at}
	for _, rec := range m.Records {
		switch {
		case rec.Role == artifact.RoleArtifact:
			e.Artifacts = append(e.Artifacts, entry.Subject{Name: rec.Name, SHA256: rec.Digest.Hex()})
		case rec.Path != "":
			ev := entry.Evidence{Name: rec.Name, Role: string(rec.Role), SHA256: rec.Digest.Hex()}
			if !rec.Describes.IsZero() {
				ev.Describes = rec.Describes.Hex()
			}
			e.Evidence = append(e.Evidence, ev)
		}
	}
	e.Evidence = append(e.Evidence, req.evidence...)
	return e
}

// filesOf are the store's records of m's files (every record with a path).
func filesOf(m *artifact.Manifest) []store.File {
	var out []store.File
	for _, rec := range m.Records {
		if rec.Path == "" {
			continue
		}
		f := store.File{Role: string(rec.Role), Name: rec.Name, Path: rec.Path, Digest: rec.Digest.String(), Size: rec.Size, MediaType: rec.MediaType}
		if !rec.Describes.IsZero() {
			f.Describes = rec.Describes.String()
		}
		out = append(out, f)
	}
	return out
}
