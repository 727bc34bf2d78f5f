package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/mirror"
	"github.com/slipway/actions/internal/ocibundle"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/follow"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/workspace"
)

// SlurmConfig lets the server submit admitted releases to Slurm itself
// (slipway serve --slurm): POST /api/v1/releases/{id}/dispatch.
type SlurmConfig struct {
	// Backend submits and queries jobs (slurm/cli or slurm/rest).
	Backend slurm.Backend
	// Follower follows the jobs the server submitted to their end; nil
	// makes one on Backend.
	Follower *follow.Follower
	// WorkDir is the directory on the shared filesystem jobs run in: each
	// dispatch stages its release in a fresh directory under it.
	WorkDir string
	// Partition is the partition of a request that names none.
	Partition string
	// Cluster is the cluster jobs go to; "" is the local one.
	Cluster string
	// Slipway is the slipway binary on the compute nodes (absolute): the
	// job's first command, slipway exec-verified.
	Slipway string
	// NodePolicy is the trust policy on the nodes exec-verified checks the
	// release's signatures with; "" checks the admitted digest only.
	NodePolicy string
	// ContainerRuntime runs image releases on the nodes: "" or "slurm"
	// (srun --container), or "podman" (podman run --rootfs).
	ContainerRuntime string
}

// enqueueRequest is the body of POST /api/v1/releases/{id}/dispatch.
type enqueueRequest struct {
	Command     string          `json:"command"`
	Script      string          `json:"script"`
	Artifact    string          `json:"artifact"`
	Partition   string          `json:"partition"`
	Account     string          `json:"account"`
	QOS         string          `json:"qos"`
	TimeLimit   json.RawMessage `json:"timeLimit"`
	Nodes       int             `json:"nodes"`
	NTasks      int             `json:"ntasks"`
	CPUsPerTask int             `json:"cpusPerTask"`
	Mem         string          `json:"mem"`
	GPUs        string          `json:"gpus"`
	Gres        string          `json:"gres"`
	Constraint  string          `json:"constraint"`
	Platform    string          `json:"platform"`
}

// parseTimeLimit reads timeLimit: a Go duration ("90m") or a number of
// minutes; absent is 0 (the partition's default).
func parseTimeLimit(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%q is not a positive duration; write it like \"90m\" or a number of minutes", s)
		}
		return d, nil
	}
	var m int64
	if err := json.Unmarshal(raw, &m); err != nil || m <= 0 || m > 525600*10 {
		return 0, fmt.Errorf("%s is neither a duration (\"90m\") nor a positive whole number of minutes", raw)
	}
	return time.Duration(m) * time.Minute, nil
}

// enqueue is POST /api/v1/releases/{id}/dispatch: the server checks the
// job against the policy's dispatch limits (403 dispatch-limits, nothing
// submitted), stages the release's files from the blob store into a fresh
// directory under the shared workdir, renders the job as slipway dispatch
// does (internal/dispatch.PlanJob), authorizes it as it authorizes a
// dispatcher's job (a dispatch-authorized entry with the job's
// fingerprint, before anything is submitted), submits it, logs a
// dispatch-recorded entry naming that authorization and answers 202; the
// job is followed to its end in the background.
func (d *dispatches) enqueue(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rel, err := d.s.release(r)
	if err != nil {
		return err
	}
	var req enqueueRequest
	if err := decodeStrict(w, r, &req); err != nil {
		return err
	}
	if err := d.checkJob(rel, &req); err != nil {
		return err
	}
	rec, err := d.submit(ctx, rel, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/dispatches/"+rec.ID)
	return writeJSON(w, http.StatusAccepted, dispatchAnswerOf(rec, d.s.now()))
}

// checkJob checks a job asked for against the policy's dispatch limits
// (403 dispatch-limits) after giving it the server's default partition.
func (d *dispatches) checkJob(rel store.Release, req *enqueueRequest) error {
	limit, err := parseTimeLimit(req.TimeLimit)
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Type: "bad-dispatch", Title: "Not a dispatch request", Check: "timeLimit", Detail: "field \"timeLimit\": " + err.Error()}
	}
	if req.Partition == "" {
		req.Partition = d.s.cfg.Slurm.Partition
	}
	return checkLimits(d.s.cfg.Policy, rel, policy.DispatchRequest{Partition: req.Partition, Account: req.Account, QOS: req.QOS,
		TimeLimit: limit, Nodes: req.Nodes, NTasks: req.NTasks, GPUs: req.GPUs, Gres: req.Gres})
}

// submit stages rel, plans req (checked by checkJob), authorizes, submits
// and records the job for the request's identity, and follows it.
func (d *dispatches) submit(ctx context.Context, rel store.Release, req enqueueRequest) (store.Dispatch, error) {
	sc := d.s.cfg.Slurm
	limit, _ := parseTimeLimit(req.TimeLimit)
	job := dispatch.Job{Command: req.Command, Script: req.Script, Artifact: req.Artifact, Partition: req.Partition, Account: req.Account,
		QOS: req.QOS, Cluster: sc.Cluster, TimeLimit: limit, Nodes: req.Nodes, NTasks: req.NTasks, CPUsPerTask: req.CPUsPerTask,
		Mem: req.Mem, GPUs: req.GPUs, Gres: req.Gres, Constraint: req.Constraint, Platform: req.Platform, Slipway: sc.Slipway, PolicyFile: sc.NodePolicy,
		SiteContainerRuntime: sc.ContainerRuntime}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return store.Dispatch{}, err
	}
	dir := jobWorkDir(sc.WorkDir, rel.ID, hex.EncodeToString(nonce[:]))
	st, err := d.stage(ctx, rel, dir)
	if err != nil {
		return store.Dispatch{}, err
	}
	spec, err := dispatch.PlanJob(st, job, dir)
	if err != nil {
		os.RemoveAll(dir)
		return store.Dispatch{}, &Problem{Status: http.StatusBadRequest, Type: "bad-dispatch", Title: "Not a dispatch request", Detail: err.Error()}
	}
	if err := dispatch.StageJobImage(ctx, st, job, d.registryOptions(ctx)); err != nil {
		os.RemoveAll(dir)
		return store.Dispatch{}, imageNotStaged(ctx, rel.ID, err)
	}
	key, err := dispatch.IdempotencyKey(dispatch.RunIdentity{RunID: serverRun + hex.EncodeToString(nonce[:]), Attempt: "1", Job: "serve"}, rel.ID, spec.Fingerprint())
	if err != nil {
		os.RemoveAll(dir)
		return store.Dispatch{}, err
	}
	spec.Comment = key
	auth, _, err := d.grant(ctx, rel, store.DispatchAuthorization{RunID: key, Fingerprint: spec.Fingerprint(), Cluster: sc.Cluster, Partition: req.Partition})
	if err != nil {
		os.RemoveAll(dir)
		return store.Dispatch{}, err
	}
	id, err := sc.Backend.Submit(ctx, spec)
	if err != nil {
		os.RemoveAll(dir)
		return store.Dispatch{}, &Problem{Status: http.StatusBadGateway, Type: "slurm-failed", Title: "Slurm did not take the job",
			Detail: "submitting the job failed; the server's log has Slurm's answer under this request id: check the request's resources, then send it again", Cause: err}
	}
	rec := store.Dispatch{ID: dispatchID(rel.ID, key, strconv.FormatUint(uint64(id), 10)), ReleaseID: rel.ID, RunID: key,
		JobID: strconv.FormatUint(uint64(id), 10), Cluster: sc.Cluster, Partition: req.Partition, Submitted: true,
		State: store.DispatchState{State: string(slurm.Pending), ExitCode: -1}}
	if rec, err = d.log(ctx, rel, rec, auth); err == nil {
		if err = d.s.cfg.Store.CreateDispatch(context.WithoutCancel(ctx), rec); err == nil {
			d.s.recorded(rec.ID)
		}
	}
	if err != nil {
		// A job the log does not know breaks the chain from release to run.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := sc.Backend.Cancel(c, id); cerr != nil {
			d.s.log.Error("cancelling an unrecorded job failed", "request_id", requestID(ctx), "job_id", id, "err", cerr)
		}
		return store.Dispatch{}, err
	}
	d.s.log.Info("dispatch submitted", "request_id", requestID(ctx), "dispatch", rec.ID, "release", rel.ID, "job_id", id,
		"partition", rec.Partition, "log_index", rec.LogIndex, "identity", rec.Requester)
	d.followJob(rec, spec.Stdout, spec.Stderr, spec.Name, dir)
	return rec, nil
}

// registryOptions pull an image release's blobs as admission by
// reference reads registries: through the server's registry transport
// (private addresses refused unless allowed: the registry is named by
// the release's uploader) with the server's own credentials.
func (d *dispatches) registryOptions(ctx context.Context) []remote.Option {
	kc := d.s.cfg.RegistryKeychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(d.s.registryTransport()), remote.WithAuthFromKeychain(kc)}
}

// imageNotStaged answers an image release whose blobs could not be pulled
// from its registry: nothing was submitted.
func imageNotStaged(ctx context.Context, id string, err error) error {
	var be *ocibundle.Error
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case mirror.IsPrivateAddress(err):
		return refusedRegistry(err)
	case errors.As(err, &be) && be.Check == "platform":
		return &Problem{Status: http.StatusBadRequest, Type: "bad-dispatch", Title: "Not a dispatch request", Check: "platform",
			Detail: "nothing was submitted: " + err.Error()}
	}
	return &Problem{Status: http.StatusBadGateway, Type: "registry-unavailable", Title: "Image not staged", RetryAfter: 5,
		Detail: fmt.Sprintf("the image of release %q could not be staged from its registry, so nothing was submitted: %v; check that the registry is up and readable with the server's credentials, then send the request again", id, err)}
}

// serverRun begins the run part of a server dispatch's idempotency key:
// "slipway:v1:run=server-<nonce>.1:job=serve:…"; the nonce names the
// dispatch's directory too, so that a restarted server finds it.
const serverRun = "server-"

// jobWorkDir is the directory the server dispatch with this nonce runs in.
func jobWorkDir(root, release, nonce string) string {
	return filepath.Join(root, release+"-"+nonce)
}

// nonceOf is the nonce in a server dispatch's idempotency key; "" for
// another key.
func nonceOf(key string) string {
	_, rest, ok := strings.Cut(key, ":run="+serverRun)
	nonce, _, _ := strings.Cut(rest, ".")
	if !ok || len(nonce) != 16 || strings.Trim(nonce, "0123456789abcdef") != "" {
		return ""
	}
	return nonce
}

// stage copies the admitted release's files from the blob store into
// dir/.slipway/release-ID (what dispatch.Stage makes from a server's
// download), each path resolved inside it, readable by the job's user.
func (d *dispatches) stage(ctx context.Context, rel store.Release, dir string) (*dispatch.Staged, error) {
	raw, err := d.s.cfg.Store.ReleaseManifest(ctx, rel.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Problem{Status: http.StatusConflict, Type: "no-manifest", Title: "Release admitted without its manifest",
			Detail: fmt.Sprintf("release %q was admitted before the server kept manifests, so its files cannot be staged; upload its manifest again", rel.ID)}
	}
	if err != nil {
		return nil, err
	}
	staged := filepath.Join(dir, dispatch.StateDir, "release-"+rel.ID)
	erel := export.Release{ID: rel.ID, LogIndex: rel.LogIndex, Receipt: string(rel.Receipt), ManifestDigest: rel.ManifestDigest}
	m, err := artifact.Decode(bytes.NewReader(raw), "release "+rel.ID)
	if err != nil {
		ref, ok, rerr := dispatch.ParseReference(raw, erel)
		if !ok {
			return nil, err
		}
		if rerr != nil {
			return nil, rerr
		}
		if m, err = referenceManifest(rel, ref); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(staged, 0o755); err != nil {
		return nil, fmt.Errorf("staging release %q in %q: %w; check --slurm-workdir", rel.ID, dir, err)
	}
	root, err := workspace.New(staged)
	if err != nil {
		return nil, err
	}
	for _, rec := range m.Records {
		if rec.Path == "" {
			continue
		}
		if err := d.copyBlob(ctx, root, rec); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("staging %q of release %q: %w", rec.Path, rel.ID, err)
		}
	}
	return &dispatch.Staged{Release: erel, Dir: staged, Manifest: m}, nil
}

// referenceManifest is the manifest a release admitted by reference is
// staged from: the image (a record by URI, as slipway dispatch stages
// it), and every file of the copy admission made (the image's manifests,
// configs and layers, its referrers) at its path in the OCI image layout
// "image", so that dispatch.StageImage finds every blob there and reads
// no registry; the Sigstore bundles among the referrers' blobs are
// signature records of the image, the node's --bundles.
func referenceManifest(rel store.Release, ref name.Digest) (*artifact.Manifest, error) {
	d, err := digest.Parse(ref.DigestStr())
	if err != nil {
		return nil, err
	}
	m := artifact.NewManifest()
	var image *store.File
	for i, f := range rel.Files {
		if f.Digest == d.String() && f.Role == string(artifact.RoleArtifact) {
			image = &rel.Files[i]
		}
	}
	if image == nil {
		return nil, &Problem{Status: http.StatusConflict, Type: "no-manifest", Title: "Release admitted without its files",
			Detail: fmt.Sprintf("release %q names the image %s but the server holds no copy of it, so it cannot be staged; admit the reference again", rel.ID, d)}
	}
	repo := ref.Context().Name()
	m.Add(artifact.Record{Name: repo, URI: repo + "@" + d.String(), Digest: d, Size: image.Size, MediaType: image.MediaType, Role: artifact.RoleArtifact})
	for _, f := range rel.Files {
		fd, err := digest.Parse(f.Digest)
		if err != nil {
			return nil, err
		}
		role := artifact.RoleAttestation
		if strings.HasPrefix(f.MediaType, "application/vnd.dev.sigstore.bundle") {
			role = artifact.RoleSignature
		}
		// Blobs of the copy: staged, but only bundles describe the image.
		rec := artifact.Record{Name: f.Path, Path: f.Path, Digest: fd, Size: f.Size, MediaType: f.MediaType, Role: role}
		if role == artifact.RoleSignature {
			rec.Describes = d
		}
		m.Records = append(m.Records, rec)
	}
	return m, nil
}

// copyBlob writes rec's blob at rec.Path inside root (a record sharing
// another's path and digest is written once).
func (d *dispatches) copyBlob(ctx context.Context, root *workspace.Root, rec artifact.Record) error {
	dst, err := root.Resolve(rec.Path)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	src, err := d.s.cfg.Blobs.Open(ctx, rec.Digest)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// followJob follows a submitted job to its end in the background and
// records its final state. It is not tied to a request or to the server's
// shutdown: a job outlives both (a restarted server follows it again).
func (d *dispatches) followJob(rec store.Dispatch, stdout, stderr, name, dir string) {
	id, err := strconv.ParseUint(rec.JobID, 10, 32)
	if err != nil {
		return
	}
	go func() {
		job, err := d.follower().Follow(context.Background(), uint32(id), follow.LogFiles{Stdout: stdout, Stderr: stderr, Name: name, WorkDir: dir}, io.Discard)
		st := store.DispatchState{State: string(job.State), ExitCode: job.ExitCode, Started: job.Start, Ended: job.End, Final: job.State.Final(), Node: job.Nodes}
		if err != nil {
			d.s.log.Warn("following a dispatched job", "dispatch", rec.ID, "job_id", id, "err", err)
			if errors.Is(err, follow.ErrForgotten) {
				st = store.DispatchState{State: "UNKNOWN", ExitCode: -1, Started: job.Start, Final: true}
			}
		}
		if err := d.s.cfg.Store.SetDispatchState(context.Background(), rec.ID, st); err != nil {
			d.s.log.Error("recording a dispatched job's state", "dispatch", rec.ID, "job_id", id, "err", err)
			return
		}
		d.s.log.Info("dispatched job ended", "dispatch", rec.ID, "job_id", id, "state", st.State, "exit_code", st.ExitCode)
	}()
}

// resume follows again the jobs the server submitted whose end it has not
// recorded (a restarted server).
func (d *dispatches) resume(ctx context.Context) {
	list, err := d.s.cfg.Store.UnfinishedDispatches(ctx)
	if err != nil {
		d.s.log.Error("listing unfinished dispatches", "err", err)
		return
	}
	sc := d.s.cfg.Slurm
	for _, rec := range list {
		nonce := nonceOf(rec.RunID)
		if nonce == "" {
			continue
		}
		dir := jobWorkDir(sc.WorkDir, rec.ReleaseID, nonce)
		log := filepath.Join(dir, dispatch.StateDir, "job-%j.")
		d.followJob(rec, log+"out", log+"err", "slipway-"+rec.ReleaseID, dir)
	}
}

// liveState asks Slurm for the state of a job the server submitted and
// has not seen end; the stored state when Slurm cannot say.
func (d *dispatches) liveState(ctx context.Context, rec store.Dispatch) store.DispatchState {
	id, err := strconv.ParseUint(rec.JobID, 10, 32)
	if err != nil || d.s.cfg.Slurm == nil {
		return rec.State
	}
	jobs, err := d.s.cfg.Slurm.Backend.Jobs(ctx, []uint32{uint32(id)})
	j, ok := jobs[uint32(id)]
	if err != nil || !ok {
		return rec.State
	}
	st := store.DispatchState{State: string(j.State), ExitCode: j.ExitCode, Started: j.Start, Final: false, Node: j.Nodes}
	// Slurm's end_time of a job that has not ended is when its time limit runs out: not an end.
	if j.State.Final() {
		st.Ended = j.End
	}
	return st
}
