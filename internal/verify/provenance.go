package verify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/provenance"
)

// slsaProvenance is the part of a SLSA v1 provenance predicate the policy
// looks at. Field names match case-insensitively, so cosign's
// "invocationID" reads as well as the spec's "invocationId".
type slsaProvenance struct {
	BuildDefinition struct {
		BuildType            string         `json:"buildType"`
		ExternalParameters   map[string]any `json:"externalParameters"`
		InternalParameters   map[string]any `json:"internalParameters"`
		ResolvedDependencies []dependency   `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata *struct {
			StartedOn  *time.Time `json:"startedOn"`
			FinishedOn *time.Time `json:"finishedOn"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// source is a source repository a provenance names, and where.
type source struct {
	uri, field string
}

// checkProvenance checks a verified SLSA v1 provenance about the subject:
// its builder and source repository against the policy, and dates the
// build for maxAge. It reports whether every provenance rule passed.
func (v *Verifier) checkProvenance(rep *SubjectReport, ev *evidence, raw json.RawMessage, f *found) bool {
	p := v.policy
	var prov slsaProvenance
	if err := json.Unmarshal(raw, &prov); err != nil {
		rep.fail(CheckProvenance, ev.path, "the SLSA v1 predicate does not parse: %v", err)
		return false
	}
	id := prov.RunDetails.Builder.ID
	if id == "" || prov.BuildDefinition.BuildType == "" {
		rep.fail(CheckProvenance, ev.path, "the SLSA v1 predicate lacks runDetails.builder.id or buildDefinition.buildType; it is not valid provenance")
		return false
	}
	passed := true
	rep.pass(CheckProvenance, ev.path, "", "SLSA v1 provenance of build type %q by builder %q", prov.BuildDefinition.BuildType, id)
	if len(p.Builders) > 0 {
		if i, ok := p.MatchBuilder(id); ok {
			rep.pass(CheckBuilder, ev.path, "", "provenance builder %q is allowed (policy builders[%d]: %s)", id, i, p.Builders[i])
		} else {
			var rules []string
			for _, b := range p.Builders {
				rules = append(rules, b.String())
			}
			rep.fail(CheckBuilder, ev.path, "provenance builder %q is not in policy builders [%s]", id, strings.Join(rules, ", "))
			passed = false
		}
	}
	if len(p.SourceRepositories) > 0 && !v.checkSource(rep, ev, &prov) {
		passed = false
	}
	if passed {
		for _, s := range provenanceSources(&prov) {
			f.sources = append(f.sources, s.uri)
		}
		if prov.BuildDefinition.BuildType == provenance.SlurmBuildType {
			f.dispatched = true
			f.inputs = append(f.inputs, dispatchInputs(&prov, ev.path)...)
		}
	}
	if prov.BuildDefinition.BuildType == provenance.SlurmBuildType && !v.checkJob(rep, ev, &prov) {
		passed = false
	}
	if m := prov.RunDetails.Metadata; m != nil {
		switch {
		case m.FinishedOn != nil:
			f.times = append(f.times, timeEvidence{bundle: ev.path, at: *m.FinishedOn, source: "provenance finishedOn"})
		case m.StartedOn != nil:
			f.times = append(f.times, timeEvidence{bundle: ev.path, at: *m.StartedOn, source: "provenance startedOn"})
		}
	}
	return passed
}

// checkSource checks the provenance's source repositories: those its
// externalParameters name, or else its first git dependency (by SLSA
// convention the top-level source). Every one must be allowed; it reports
// whether they were.
func (v *Verifier) checkSource(rep *SubjectReport, ev *evidence, prov *slsaProvenance) bool {
	p := v.policy
	sources := provenanceSources(prov)
	if len(sources) == 0 {
		rep.fail(CheckSource, ev.path, "the provenance names no source repository (externalParameters or a git resolvedDependency); the policy requires one of [%s]", strings.Join(p.SourceRepositories, ", "))
		return false
	}
	passed := true
	for _, s := range sources {
		i, err := p.MatchSource(s.uri)
		switch {
		case err != nil:
			rep.fail(CheckSource, ev.path, "provenance source %q (%s) is not a repository URI the policy can match: it %v", s.uri, s.field, err)
			passed = false
		case i >= 0:
			rep.pass(CheckSource, ev.path, "", "provenance source %q (%s) is allowed (policy sourceRepositories[%d])", s.uri, s.field, i)
		default:
			rep.fail(CheckSource, ev.path, "provenance source %q (%s) is not in policy sourceRepositories [%s]", s.uri, s.field, strings.Join(p.SourceRepositories, ", "))
			passed = false
		}
	}
	return passed
}

// provenanceSources returns the source repositories prov names: those its
// externalParameters name, or else its first git dependency (by SLSA
// convention the top-level source).
func provenanceSources(prov *slsaProvenance) []source {
	sources := externalSources(prov.BuildDefinition.ExternalParameters)
	if len(sources) == 0 {
		for i, d := range prov.BuildDefinition.ResolvedDependencies {
			if strings.HasPrefix(d.URI, "git+") || d.Digest["gitCommit"] != "" {
				sources = append(sources, source{uri: d.URI, field: fmt.Sprintf("resolvedDependencies[%d].uri", i)})
				break
			}
		}
	}
	return sources
}

// externalSources finds source repository URIs in externalParameters, in
// the places build types put them: "repository" and "source" (Slipway's and
// generic build types), "workflow.repository" (GitHub Actions build type),
// "sourceRepository", and "source.uri"/"source.repository".
func externalSources(ext map[string]any) []source {
	var out []source
	add := func(v any, field string) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, source{uri: s, field: "externalParameters." + field})
		}
	}
	for _, k := range []string{"repository", "source", "sourceRepository"} {
		add(ext[k], k)
	}
	for _, parent := range []string{"workflow", "source"} {
		if m, ok := ext[parent].(map[string]any); ok {
			add(m["repository"], parent+".repository")
			add(m["uri"], parent+".uri")
		}
	}
	return out
}
