package verify

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/provenance"
)

// dependency is a resolvedDependencies entry.
type dependency struct {
	Name        string            `json:"name"`
	URI         string            `json:"uri"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]any    `json:"annotations"`
}

// releaseInput is an input release a verified slurm-dispatch provenance
// names: its id and manifest digest, and the artifacts it lists with it.
type releaseInput struct {
	id, manifest string // manifest: lowercase hex SHA-256
	logIndex     string // the annotation, decimal; "" when absent
	artifacts    []signedSubject
	bundle       string
}

// dispatchInputs reads the input releases of a slurm-dispatch provenance:
// each "slipway:release/<id>" dependency, with every named dependency as
// one of its artifacts.
func dispatchInputs(prov *slsaProvenance, bundle string) []releaseInput {
	var arts []signedSubject
	var out []releaseInput
	for _, d := range prov.BuildDefinition.ResolvedDependencies {
		if id, ok := strings.CutPrefix(d.URI, provenance.ReleaseURIPrefix); ok {
			out = append(out, releaseInput{id: id, manifest: strings.ToLower(d.Digest["sha256"]), logIndex: annotationIndex(d.Annotations["logIndex"]), bundle: bundle})
		} else if d.Name != "" {
			arts = append(arts, signedSubject{name: d.Name, sha256: strings.ToLower(d.Digest["sha256"]), bundle: bundle})
		}
	}
	for i := range out {
		out[i].artifacts = arts
	}
	return out
}

// VerifyChain verifies the outputs manifest of a dispatched job (in
// outDir) and the manifest of the release it ran (in inDir) under the one
// policy, each as VerifyManifest does, and then the link between them: the
// verified slurm-dispatch provenance of every output must name that
// release, by id and manifest digest, with its artifacts' names and
// digests (a "chain" check of each output). The report holds the outputs
// first, then the release's artifacts, whose own provenance leads to the
// commit.
func (v *Verifier) VerifyChain(ctx context.Context, outputs *artifact.Manifest, outDir string, input *artifact.Manifest, inDir string) (*Report, error) {
	r, err := v.VerifyManifest(ctx, outputs, outDir)
	if err != nil {
		return nil, fmt.Errorf("the outputs: %w", err)
	}
	in, err := v.VerifyManifest(ctx, input, inDir)
	if err != nil {
		return nil, fmt.Errorf("the input release: %w", err)
	}
	adm, err := artifact.AdmittedAs(input)
	if err != nil {
		return nil, fmt.Errorf("the input release: %w", err)
	}
	outs := len(outputs.ByRole(artifact.RoleArtifact))
	for _, rep := range r.Subjects[:outs] {
		checkLink(rep, adm, input)
	}
	r.Subjects = append(r.Subjects, in.Subjects...)
	r.Locations = append(r.Locations, in.Locations...)
	r.refresh()
	return r, nil
}

// checkLink checks that a verified dispatch provenance of rep names the
// input release adm with the artifacts of m.
func checkLink(rep *SubjectReport, adm *artifact.Admitted, m *artifact.Manifest) {
	if len(rep.inputs) == 0 {
		rep.fail(CheckChain, "", "no verified %s provenance names an input release for %q: it was not made by slipway dispatch, or its provenance failed the checks above", provenance.SlurmBuildType, rep.Name)
		return
	}
	for _, in := range rep.inputs {
		if in.id != adm.ID || in.manifest != adm.Digest.Hex() {
			rep.fail(CheckChain, in.bundle, "the provenance names input release %q (manifest sha256:%s), but the release given is %q (manifest sha256:%s): give the manifest of the release the job ran", in.id, in.manifest, adm.ID, adm.Digest.Hex())
			continue
		}
		if msg := sameArtifacts(in.artifacts, m); msg != "" {
			rep.fail(CheckChain, in.bundle, "%s", msg)
			continue
		}
		rep.pass(CheckChain, in.bundle, "", "%q is an output of a job that ran release %q (manifest sha256:%s, %d artifact(s)), verified below", rep.Name, adm.ID, adm.Digest.Hex(), len(in.artifacts))
	}
}

// sameArtifacts says how the provenance's input artifacts differ from the
// release's, "" when they are the same.
func sameArtifacts(deps []signedSubject, m *artifact.Manifest) string {
	arts := m.ByRole(artifact.RoleArtifact)
	want := map[string]string{}
	for _, a := range arts {
		want[a.Name] = a.Digest.Hex()
	}
	for _, d := range deps {
		if h, ok := want[d.name]; !ok || h != d.sha256 {
			return fmt.Sprintf("the provenance names input artifact %q sha256:%s, which the release does not hold with that digest", d.name, d.sha256)
		}
	}
	if len(deps) != len(arts) {
		return fmt.Sprintf("the provenance names %d input artifact(s), the release holds %d", len(deps), len(arts))
	}
	return ""
}
