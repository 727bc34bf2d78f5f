package provenance

import (
	"fmt"
	"strconv"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// SlurmBuildType is the buildType of the provenance of a dispatched job's
// outputs (slipway dispatch), described in docs/buildtype-slurm.md.
const SlurmBuildType = "https://slipway.dev/buildtypes/slurm-dispatch/v1"

// ReleaseURIPrefix begins the resolvedDependencies URI of an input release:
// "slipway:release/<id>".
const ReleaseURIPrefix = "slipway:release/"

// SlurmRun is what the provenance of a dispatched job's outputs says.
type SlurmRun struct {
	// Outputs are the subjects: the files the job produced, named by their
	// path relative to the workdir.
	Outputs []artifact.Subject
	// Release is the input release's id, ManifestDigest its manifest
	// digest, LogIndex the log entry that admitted it; Inputs its artifacts.
	Release        string
	ManifestDigest digest.SHA256
	LogIndex       uint64
	Inputs         []artifact.Subject
	// Repository is the source repository the input release's verified
	// provenance names ("" when none).
	Repository string
	// Artifact is the input artifact the job ran; Command its words, or
	// Script the release file run with /bin/sh.
	Artifact string
	Command  []string
	Script   string
	// What was asked of Slurm.
	Partition, Account, QOS, Cluster string
	TimeLimit                        time.Duration
	Nodes, NTasks, CPUsPerTask       int
	Mem, GPUs, Gres, Constraint      string
	// What Slurm reports.
	JobID               uint32
	NodeList, TRES      string
	SlurmVersion, State string
	ExitCode            int
	Started, Finished   time.Time
	BuilderID, Version  string
	// InvocationID is the dispatch's idempotency key.
	InvocationID string
}

// NewSlurm builds the provenance statement of a dispatched job's outputs.
// The same run always gives the same statement.
func NewSlurm(r SlurmRun) (*intoto.Statement, error) {
	if r.BuilderID == "" {
		return nil, fmt.Errorf("building provenance: no builder id; give the headnode runner's configured id (builder-id)")
	}
	subjects, err := Subjects(r.Outputs)
	if err != nil {
		return nil, err
	}
	ext := map[string]any{"release": r.Release, "artifact": r.Artifact, "partition": r.Partition}
	if r.Repository != "" {
		ext["repository"] = r.Repository
	}
	if len(r.Command) > 0 {
		words := make([]any, len(r.Command))
		for i, w := range r.Command {
			words[i] = w
		}
		ext["command"] = words
	}
	setNonEmpty(ext, map[string]string{"script": r.Script, "account": r.Account, "qos": r.QOS, "mem": r.Mem, "gpus": r.GPUs, "gres": r.Gres, "constraint": r.Constraint})
	if r.TimeLimit > 0 {
		ext["timeLimit"] = r.TimeLimit.String()
	}
	for k, v := range map[string]int{"nodes": r.Nodes, "ntasks": r.NTasks, "cpusPerTask": r.CPUsPerTask} {
		if v > 0 {
			ext[k] = float64(v)
		}
	}
	in := map[string]any{"jobId": strconv.FormatUint(uint64(r.JobID), 10), "state": r.State, "exitCode": float64(r.ExitCode)}
	setNonEmpty(in, map[string]string{"cluster": r.Cluster, "partition": r.Partition, "nodes": r.NodeList, "tres": r.TRES, "slurmVersion": r.SlurmVersion})
	extStruct, err := structpb.NewStruct(ext)
	if err != nil {
		return nil, fmt.Errorf("building provenance: externalParameters: %w", err)
	}
	inStruct, err := structpb.NewStruct(in)
	if err != nil {
		return nil, fmt.Errorf("building provenance: internalParameters: %w", err)
	}
	var deps []*intoto.ResourceDescriptor
	for _, a := range r.Inputs {
		deps = append(deps, &intoto.ResourceDescriptor{Name: a.Name, Digest: map[string]string{"sha256": a.Digest.Hex()}})
	}
	ann, err := structpb.NewStruct(map[string]any{"logIndex": strconv.FormatUint(r.LogIndex, 10)})
	if err != nil {
		return nil, err
	}
	deps = append(deps, &intoto.ResourceDescriptor{Uri: ReleaseURIPrefix + r.Release,
		Digest: map[string]string{"sha256": r.ManifestDigest.Hex()}, Annotations: ann})
	builder := &slsa.Builder{Id: r.BuilderID}
	if r.Version != "" {
		builder.Version = map[string]string{"slipway": r.Version}
	}
	meta := &slsa.BuildMetadata{InvocationId: r.InvocationID, StartedOn: timestamp(r.Started), FinishedOn: timestamp(r.Finished)}
	pred := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{BuildType: SlurmBuildType, ExternalParameters: extStruct, InternalParameters: inStruct, ResolvedDependencies: deps},
		RunDetails:      &slsa.RunDetails{Builder: builder, Metadata: meta},
	}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("building provenance: the predicate is invalid: %w", err)
	}
	predStruct, err := toStruct(pred)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, Subject: subjects, PredicateType: PredicateType, Predicate: predStruct}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("building provenance: the statement is invalid: %w", err)
	}
	return st, nil
}

func setNonEmpty(m map[string]any, kv map[string]string) {
	for k, v := range kv {
		if v != "" {
			m[k] = v
		}
	}
}
