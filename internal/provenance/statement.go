package provenance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/slipway/actions/internal/artifact"
)

// Identifiers of the statement and its predicate.
const (
	// BuildType is buildDefinition.buildType: slipway's build type, described
	// field by field in docs/buildtype.md.
	BuildType = "https://slipway.dev/buildtypes/github-actions/v1"
	// PredicateType is the SLSA provenance v1.0 predicate type (cosign's
	// "slsaprovenance1").
	PredicateType = "https://slsa.dev/provenance/v1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
)

// Options is what a provenance statement is made of.
type Options struct {
	// Subjects are the artifacts the build produced, with digests computed
	// once by whoever read them. At least one is required.
	Subjects []artifact.Subject
	// Build is how they were made, from the manifest; nil when unknown (a
	// bare subject file), in which case only what the builder knows is said.
	Build *artifact.BuildInfo
	// Builder is who built them (DetectBuilder). Required.
	Builder *Builder
	// Version is the slipway version, recorded as runDetails.builder.version.
	Version string
}

// ErrNothingKnown is returned when there is nothing to say about how the
// subjects were built: no BuildInfo and no GitHub Actions run.
var ErrNothingKnown = errors.New("nothing is known about how the subjects were built")

// New builds the provenance statement. The same options always give the
// same statement.
func New(o Options) (*intoto.Statement, error) {
	if o.Builder == nil || o.Builder.ID == "" {
		return nil, fmt.Errorf("building provenance: no builder; call DetectBuilder first")
	}
	subjects, err := Subjects(o.Subjects)
	if err != nil {
		return nil, err
	}
	ext := externalParameters(o.Build, o.Builder.GitHub)
	if len(ext) == 0 {
		return nil, fmt.Errorf("building provenance: %w; attest a manifest written by \"slipway build\", or run inside GitHub Actions", ErrNothingKnown)
	}
	extStruct, err := structpb.NewStruct(ext)
	if err != nil {
		return nil, fmt.Errorf("building provenance: externalParameters: %w", err)
	}
	intStruct, err := structpb.NewStruct(internalParameters(o.Build, o.Builder))
	if err != nil {
		return nil, fmt.Errorf("building provenance: internalParameters: %w", err)
	}
	deps, err := resolvedDependencies(o.Build, o.Builder.GitHub)
	if err != nil {
		return nil, err
	}
	builder := &slsa.Builder{Id: o.Builder.ID}
	if o.Version != "" {
		builder.Version = map[string]string{"slipway": o.Version}
	}
	pred := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            BuildType,
			ExternalParameters:   extStruct,
			InternalParameters:   intStruct,
			ResolvedDependencies: deps,
		},
		RunDetails: &slsa.RunDetails{Builder: builder, Metadata: metadata(o.Build, o.Builder.GitHub)},
	}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("building provenance: the predicate is invalid: %w", err)
	}
	predStruct, err := toStruct(pred)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       subjects,
		PredicateType: PredicateType,
		Predicate:     predStruct,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("building provenance: the statement is invalid: %w", err)
	}
	return st, nil
}

// Subjects converts subjects to in-toto resource descriptors, checking that
// each has a name and a digest and that no name repeats.
func Subjects(subjects []artifact.Subject) ([]*intoto.ResourceDescriptor, error) {
	if len(subjects) == 0 {
		return nil, fmt.Errorf("building statement: no subjects; give a subject file, an image or a manifest with artifacts")
	}
	seen := make(map[string]bool, len(subjects))
	out := make([]*intoto.ResourceDescriptor, 0, len(subjects))
	for i, s := range subjects {
		switch {
		case s.Name == "":
			return nil, fmt.Errorf("building statement: subject %d has no name", i)
		case s.Digest.IsZero():
			return nil, fmt.Errorf("building statement: subject %q has no digest", s.Name)
		case seen[s.Name]:
			return nil, fmt.Errorf("building statement: subject %q is listed twice; each subject name must appear once", s.Name)
		}
		seen[s.Name] = true
		out = append(out, &intoto.ResourceDescriptor{Name: s.Name, Digest: map[string]string{"sha256": s.Digest.Hex()}})
	}
	return out, nil
}

// Marshal serializes a statement as compact JSON: the DSSE payload. protojson
// varies its whitespace on purpose; compacting makes the bytes depend on the
// statement only.
func Marshal(st *intoto.Statement) ([]byte, error) {
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding statement: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, fmt.Errorf("encoding statement: %w", err)
	}
	return out.Bytes(), nil
}

func toStruct(p *slsa.Provenance) (*structpb.Struct, error) {
	b, err := protojson.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding provenance predicate: %w", err)
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("encoding provenance predicate: %w", err)
	}
	return s, nil
}

// sourceRepository is the repository URI of the source: the build's, else
// the GitHub run's as "git+https://github.com/o/r".
func sourceRepository(build *artifact.BuildInfo, gh *GitHubRun) string {
	if build != nil && build.Repository != "" {
		return build.Repository
	}
	if gh != nil && gh.Repository != "" {
		return "git+" + gh.RepositoryURL()
	}
	return ""
}

func sourceRef(build *artifact.BuildInfo, gh *GitHubRun) string {
	if build != nil && build.Repository != "" {
		return build.Ref
	}
	if gh != nil {
		return gh.Ref
	}
	return ""
}

func externalParameters(build *artifact.BuildInfo, gh *GitHubRun) map[string]any {
	ext := map[string]any{}
	if repo := sourceRepository(build, gh); repo != "" {
		ext["repository"] = repo
	}
	if ref := sourceRef(build, gh); ref != "" {
		ext["ref"] = ref
	}
	if build != nil && build.Command != "" {
		ext["command"] = build.Command
	}
	if build != nil && len(build.Toolchains) > 0 {
		names := make([]any, len(build.Toolchains))
		for i, t := range build.Toolchains {
			names[i] = t.Name
		}
		ext["toolchains"] = names
	}
	if build != nil && build.Traced {
		ext["trace"] = true
	}
	if gh != nil {
		if wf := workflow(gh); wf != nil {
			ext["workflow"] = wf
		}
		if len(gh.Inputs) > 0 {
			ext["inputs"] = gh.Inputs
		}
	}
	return ext
}

// workflow splits "o/r/.github/workflows/f.yml@refs/heads/main" into the
// repository, path and ref of the top-level workflow.
func workflow(gh *GitHubRun) map[string]any {
	if gh.WorkflowRef == "" {
		return nil
	}
	wf := map[string]any{}
	pathPart, ref, _ := strings.Cut(gh.WorkflowRef, "@")
	parts := strings.SplitN(pathPart, "/", 3)
	if len(parts) == 3 {
		wf["repository"] = gh.ServerURL + "/" + parts[0] + "/" + parts[1]
		wf["path"] = parts[2]
	} else {
		wf["path"] = pathPart
	}
	if ref != "" {
		wf["ref"] = ref
	}
	return wf
}

func internalParameters(build *artifact.BuildInfo, b *Builder) map[string]any {
	runner := map[string]any{"environment": string(b.Environment)}
	for k, v := range map[string]string{"name": b.Runner.Name, "os": b.Runner.OS, "arch": b.Runner.Arch} {
		if v != "" {
			runner[k] = v
		}
	}
	if len(b.Runner.Labels) > 0 {
		labels := make([]any, len(b.Runner.Labels))
		for i, l := range b.Runner.Labels {
			labels[i] = l
		}
		runner["labels"] = labels
	}
	in := map[string]any{"runner": runner, "builderIdSource": string(b.IDSource)}
	if gh := b.GitHub; gh != nil {
		g := map[string]any{}
		for k, v := range map[string]string{
			"eventName": gh.EventName, "repositoryId": gh.RepositoryID, "repositoryOwnerId": gh.RepositoryOwnerID,
			"jobWorkflowRef": gh.JobWorkflowRef, "sha": gh.SHA,
		} {
			if v != "" {
				g[k] = v
			}
		}
		if len(g) > 0 {
			in["github"] = g
		}
	}
	if build != nil && build.SourceDateEpoch != 0 {
		in["sourceDateEpoch"] = float64(build.SourceDateEpoch)
	}
	return in
}

func resolvedDependencies(build *artifact.BuildInfo, gh *GitHubRun) ([]*intoto.ResourceDescriptor, error) {
	var deps []*intoto.ResourceDescriptor
	repo, ref := sourceRepository(build, gh), sourceRef(build, gh)
	commit, dirty := "", false
	switch {
	case build != nil && build.Commit != "":
		commit, dirty = build.Commit, build.Dirty
	case (build == nil || build.Repository == "") && gh != nil:
		commit = gh.SHA
	}
	if repo != "" && commit != "" {
		src := &intoto.ResourceDescriptor{Uri: repo}
		if ref != "" {
			src.Uri += "@" + ref
		}
		if dirty {
			// The work tree had changes not in the commit: the commit does
			// not identify the source, so it is not claimed as its digest.
			ann, err := structpb.NewStruct(map[string]any{"dirty": true, "baseGitCommit": commit})
			if err != nil {
				return nil, err
			}
			src.Annotations = ann
		} else {
			src.Digest = map[string]string{"gitCommit": commit}
		}
		deps = append(deps, src)
	}
	if build != nil {
		for _, t := range build.Toolchains {
			d, err := toolchainDependency(t)
			if err != nil {
				return nil, err
			}
			deps = append(deps, d)
		}
		for _, e := range build.Executed {
			deps = append(deps, &intoto.ResourceDescriptor{Uri: fileURI(e.Path), Digest: map[string]string{"sha256": e.Digest.Hex()}})
		}
	}
	for i, d := range deps {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("building provenance: resolvedDependencies[%d] (%s): %w; check the manifest's build section", i, d.GetUri(), err)
		}
	}
	return deps, nil
}

// toolchainDependency describes a declared toolchain: by name, version URI
// and its executable's digest, with the executable's path as an
// annotation.
func toolchainDependency(t artifact.Tool) (*intoto.ResourceDescriptor, error) {
	d := &intoto.ResourceDescriptor{Name: t.Name, Uri: t.URI}
	if d.Uri == "" && t.Version != "" {
		d.Uri = "pkg:generic/" + url.PathEscape(t.Name) + "@" + url.PathEscape(t.Version)
	}
	if e := t.Executable; e != nil {
		d.Digest = map[string]string{"sha256": e.Digest.Hex()}
		ann, err := structpb.NewStruct(map[string]any{"path": e.Path})
		if err != nil {
			return nil, err
		}
		d.Annotations = ann
	}
	return d, nil
}

// fileURI is the file: URI of an absolute path.
func fileURI(p string) string {
	return (&url.URL{Scheme: "file", Path: p}).String()
}

func metadata(build *artifact.BuildInfo, gh *GitHubRun) *slsa.BuildMetadata {
	m := &slsa.BuildMetadata{InvocationId: gh.InvocationID()}
	if build != nil {
		m.StartedOn = timestamp(build.StartedOn)
		m.FinishedOn = timestamp(build.FinishedOn)
	}
	if m.InvocationId == "" && m.StartedOn == nil && m.FinishedOn == nil {
		return nil
	}
	return m
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
