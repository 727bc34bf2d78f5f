package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/follow"
)

// Options say what to dispatch, where, and how to attest what came out.
type Options struct {
	Stage StageOptions
	Job   Job
	// Outputs are globs of the files the job produces, relative to the
	// job's directory (WORKDIR/job-ID, where the command runs).
	Outputs []string
	Backend slurm.Backend
	// Follower follows the job; nil makes one for Backend.
	Follower *follow.Follower
	Run      RunIdentity
	// BuilderID is the headnode runner's configured builder id, recorded
	// as the outputs' provenance builder and in the dispatch record.
	BuilderID string
	// Signer signs the outputs' provenance (the attest stage's signer:
	// key, KMS or keyless); required with Outputs.
	Signer  attest.Signer
	Version string
	// Upload, when set, uploads the outputs manifest (its path relative to
	// the workdir) to the control plane.
	Upload func(ctx context.Context, manifest string) error
	// Out receives the job's stdout and stderr as they grow.
	Out io.Writer
	// Registry are the options to pull an image release's layers with
	// (nil: the Docker config's credentials, default network limits).
	Registry []remote.Option
}

// Result is how the dispatch ended.
type Result struct {
	Staged *Staged
	// Key is the idempotency key, the job's comment.
	Key   string
	JobID uint32
	// Reattached is true when a job with Key existed and was followed
	// instead of submitting another.
	Reattached bool
	// Authorized is the control plane's authorization of the job, given
	// before it was submitted; Recorded its record of the job.
	Authorized *Authorized
	Recorded   *Recorded
	follow.Result
	// Outputs, OutputsManifest and OutputProvenance are set when outputs
	// were declared and the job ran (paths absolute): for a job that did
	// not complete with exit code 0 too, with the outputs it left (none
	// is no provenance), its final state and exit code in the provenance,
	// and no upload.
	Outputs                           []artifact.Record
	OutputsManifest, OutputProvenance string
}

// Run stages and verifies the release, has the control plane authorize
// the job (when the release comes from one), submits the job (or finds
// the one an earlier run of the same attempt submitted), records the
// dispatch against the authorization, follows the job to its end and
// attests its outputs. A release that fails verification is a
// *RefusedError, a job the control plane does not authorize an
// *AuthorizationError, and nothing is submitted then; a job that did not
// complete with exit code 0 is Result.Err(), with the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	log := o.Stage.logger()
	if err := CheckGlobs(o.Outputs); err != nil {
		return nil, err
	}
	if len(o.Outputs) > 0 && (o.Signer == nil || o.BuilderID == "") {
		return nil, errors.New("outputs are attested: give a signing key (key, KMS or keyless) and builder-id")
	}
	if o.Backend == nil {
		return nil, errors.New("dispatch: no Slurm backend (internal error)")
	}
	if o.Stage.Registry == nil {
		o.Stage.Registry = o.Registry
	}
	st, err := Stage(ctx, o.Stage)
	if err != nil {
		return nil, err
	}
	res := &Result{Staged: st}
	workdir := o.Stage.Workdir
	byDigest := ""
	if strings.HasPrefix(o.Stage.Source.Release, "sha256:") {
		byDigest = o.Stage.Source.Release
	}
	p, err := newPlan(st, o.Job, workdir, byDigest)
	if err != nil {
		return res, err
	}
	if err := p.spec.Validate(); err != nil {
		return res, err
	}
	if err := p.checkStaging(); err != nil {
		return res, err
	}
	if err := checkLimits(o.Stage.Policy, st, p.spec); err != nil {
		return res, err
	}
	if isImage(p.artifact) {
		log.Info("staging the image's layers", "image", p.artifact.Name, "digest", p.artifact.Digest.String())
		if err := StageImage(ctx, st, p.artifact, o.Job, o.Registry); err != nil {
			return res, err
		}
	}
	if res.Key, err = IdempotencyKey(o.Run, st.Release.ID, p.spec.Fingerprint()); err != nil {
		return res, err
	}
	p.spec.Comment = res.Key
	s := o.Stage.Source
	if s.Server != nil {
		// Nothing is submitted before the control plane said yes.
		if res.Authorized, err = authorize(ctx, s, st.Release.ID, authorizationOf(p.spec, o.Job.Cluster, o.BuilderID)); err != nil {
			return res, err
		}
		log.Info("dispatch authorized", "authorization", res.Authorized.AuthorizationID, "log_index", res.Authorized.LogIndex)
	}
	if res.JobID, res.Reattached, err = submit(ctx, o, p, res.Key); err != nil {
		return res, err
	}
	log.Info("following slurm job", "job", res.JobID, "reattached", res.Reattached, "key", res.Key)
	if s.Server != nil {
		rec, err := record(ctx, s, st.Release.ID, dispatchRecord{JobID: strconv.FormatUint(uint64(res.JobID), 10),
			Cluster: o.Job.Cluster, Partition: p.spec.Partition, RunID: res.Key, BuilderID: o.BuilderID,
			AuthorizationID: res.Authorized.AuthorizationID, Fingerprint: res.Authorized.Fingerprint})
		if err != nil {
			// An unrecorded job breaks the chain from release to outputs.
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if cerr := o.Backend.Cancel(c, res.JobID); cerr != nil {
				return res, fmt.Errorf("%w; cancelling job %d failed too: %v; cancel it by hand (scancel %d)", err, res.JobID, cerr, res.JobID)
			}
			return res, fmt.Errorf("%w; job %d was cancelled", err, res.JobID)
		}
		res.Recorded = rec
	}
	f := o.Follower
	if f == nil {
		f = follow.New(o.Backend, follow.Options{Logger: log})
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	job, err := f.Follow(ctx, res.JobID, follow.LogFiles{Stdout: p.spec.Stdout, Stderr: p.spec.Stderr, Name: p.spec.Name, WorkDir: workdir}, out)
	res.Result = follow.ResultOf(job)
	res.Result.JobID = res.JobID
	if err != nil {
		return res, err
	}
	if jerr := res.Result.Err(); jerr != nil {
		// A job that ran and failed: attest what it left, so that its
		// end is evidence too (verify refuses it unless told otherwise);
		// nothing is uploaded.
		if len(o.Outputs) > 0 && !job.Start.IsZero() {
			if err := attestOutputs(ctx, o, st, p, job, res, false); err != nil {
				return res, errors.Join(jerr, fmt.Errorf("attesting the outputs of failed job %d: %w", res.JobID, err))
			}
			if res.OutputProvenance == "" {
				log.Info("the failed job left none of its outputs: nothing to attest", "job", res.JobID)
			}
		}
		return res, jerr
	}
	if len(o.Outputs) == 0 {
		return res, nil
	}
	if err := attestOutputs(ctx, o, st, p, job, res, true); err != nil {
		return res, err
	}
	if o.Upload != nil {
		rel, _ := filepath.Rel(workdir, res.OutputsManifest)
		if err := o.Upload(ctx, filepath.ToSlash(rel)); err != nil {
			return res, fmt.Errorf("uploading the outputs of job %d: %w", res.JobID, err)
		}
	}
	return res, nil
}

// submit finds the job an earlier run with the same key submitted (Slurm
// still knows it, or its job file in the workdir names it), or submits p
// and writes that job file.
func submit(ctx context.Context, o Options, p *plan, key string) (uint32, bool, error) {
	jobs, err := o.Backend.FindByComment(ctx, key)
	if err != nil {
		return 0, false, fmt.Errorf("looking for a job of an earlier run (comment %q): %w", key, err)
	}
	if len(jobs) > 0 {
		ids := make([]uint32, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ID
		}
		return slices.Max(ids), true, nil
	}
	sum := sha256.Sum256([]byte(key))
	marker := filepath.Join(o.Stage.Workdir, StateDir, "dispatch-"+hex.EncodeToString(sum[:8])+".job")
	if b, err := regfile.ReadAll(marker, 64); err == nil {
		if id, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil && id > 0 {
			return uint32(id), true, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, false, err
	}
	id, err := o.Backend.Submit(ctx, p.spec)
	if err != nil {
		return 0, false, fmt.Errorf("submitting the job: %w", err)
	}
	if err := atomicfile.WriteFile(marker, []byte(strconv.FormatUint(uint64(id), 10)+"\n"), 0o644); err != nil {
		return id, false, fmt.Errorf("job %d submitted, but recording it in %q failed: %w", id, marker, err)
	}
	return id, false, nil
}

// attestOutputs collects the outputs, writes their manifest and signs
// their provenance into it through the attest stage. With all, every glob
// must match a file; otherwise (a failed job's) what matches is attested,
// and nothing when nothing matches.
func attestOutputs(ctx context.Context, o Options, st *Staged, p *plan, job slurm.Job, res *Result, all bool) error {
	workdir := o.Stage.Workdir
	recs, err := collect(ctx, workdir, JobDir(workdir, res.JobID), o.Outputs, all)
	if err != nil || len(recs) == 0 {
		return err
	}
	m := artifact.NewManifest()
	for _, r := range recs {
		m.Add(r)
	}
	base := filepath.Join(StateDir, "job-"+strconv.FormatUint(uint64(res.JobID), 10))
	manifest := base + ".outputs.json"
	if err := m.WriteFile(filepath.Join(workdir, manifest)); err != nil {
		return err
	}
	version, err := o.Backend.Version(ctx)
	if err != nil {
		return fmt.Errorf("asking slurm its version for the provenance: %w", err)
	}
	run := provenance.SlurmRun{
		Outputs: m.Subjects(), Release: st.Release.ID, LogIndex: st.Release.LogIndex, Inputs: st.Manifest.Subjects(),
		Artifact: p.artifact.Name, Script: o.Job.Script,
		Partition: o.Job.Partition, Account: o.Job.Account, QOS: o.Job.QOS, Cluster: o.Job.Cluster, TimeLimit: o.Job.TimeLimit,
		Nodes: o.Job.Nodes, NTasks: o.Job.NTasks, CPUsPerTask: o.Job.CPUsPerTask,
		Mem: o.Job.Mem, GPUs: o.Job.GPUs, Gres: o.Job.Gres, Constraint: o.Job.Constraint,
		JobID: res.JobID, NodeList: job.Nodes, TRES: job.TRES, SlurmVersion: version, State: string(res.State), ExitCode: res.ExitCode,
		Started: job.Start, Finished: job.End, BuilderID: o.BuilderID, Version: o.Version, InvocationID: res.Key,
	}
	if run.Partition == "" {
		run.Partition = job.Partition
	}
	if o.Job.Command != "" {
		run.Command = p.argv
	}
	if len(st.Sources) > 0 {
		run.Repository = st.Sources[0]
	}
	if run.ManifestDigest, err = digest.Parse(st.Release.ManifestDigest); err != nil {
		return err
	}
	stmt, err := provenance.NewSlurm(run)
	if err != nil {
		return err
	}
	payload, err := provenance.Marshal(stmt)
	if err != nil {
		return err
	}
	bundle := base + ".provenance" + attest.BundleSuffix
	if _, err := attest.Run(ctx, attest.Options{Dir: workdir, Manifest: manifest, Kind: attest.KindProvenance, Statement: payload,
		Bundle: bundle, Signer: o.Signer, Version: o.Version, Log: o.Stage.logger()}); err != nil {
		return fmt.Errorf("attesting the outputs of job %d: %w", res.JobID, err)
	}
	res.Outputs = recs
	res.OutputsManifest = filepath.Join(workdir, manifest)
	res.OutputProvenance = filepath.Join(workdir, bundle)
	return nil
}

// LimitError is a job over the policy's dispatch limits: nothing was
// submitted.
type LimitError struct {
	Release string
	Limit   string // "partition", "maxTime", … (policy.DispatchDecision)
	Reason  string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the job for release %q is over the policy's dispatch limits (%s), nothing was submitted: %s", e.Release, e.Limit, e.Reason)
}

// checkLimits applies the policy's dispatch section, when it has one, to
// the job for the release's source repository (its verified provenance's).
func checkLimits(p *policy.Policy, st *Staged, spec slurm.JobSpec) error {
	if len(p.Dispatch) == 0 {
		return nil
	}
	repo := ""
	if len(st.Sources) > 0 {
		repo = st.Sources[0]
	}
	d := p.CheckDispatch(repo, policy.DispatchRequest{Partition: spec.Partition, Account: spec.Account, QOS: spec.QOS,
		TimeLimit: spec.TimeLimit, Nodes: spec.Nodes, NTasks: spec.NTasks, GPUs: spec.GPUs, Gres: spec.Gres})
	if !d.Allowed {
		return &LimitError{Release: st.Release.ID, Limit: d.Limit, Reason: d.Reason}
	}
	return nil
}
