package attest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
)

// kindPredicate is the Kind of a predicate made elsewhere (PredicateOptions):
// its bundles are recorded with role attestation, as SBOM attestations are.
const kindPredicate Kind = "predicate"

// PredicateOptions configures Predicate: one statement whose predicate was
// made by another stage (test results, vulnerability findings), about every
// artifact of a manifest.
type PredicateOptions struct {
	// Dir is the workspace; relative paths are relative to it.
	Dir string
	// Manifest is the artifact manifest written by the build stage: its
	// artifacts are the subjects, and the bundle is recorded in it.
	Manifest string
	// PredicateType is the statement's predicate type, a URI such as
	// https://in-toto.io/attestation/test-result/v0.1.
	PredicateType string
	// Predicate is the predicate, a JSON object; it is kept byte for byte
	// (compacted).
	Predicate []byte
	// AppendPredicate, set instead of Predicate, appends the predicate to
	// b and returns it: compact JSON as json.Marshal writes it, made by the
	// caller's code (never bytes read from input), written straight into
	// the statement's buffer without a copy or a pass to compact it: a
	// test-result predicate is 450 KB. PredicateSize is its size (or a
	// close guess), for the room made.
	AppendPredicate func(b []byte) []byte
	PredicateSize   int
	// Name is the short name of the predicate, such as "test-result": the
	// bundle is written as PredicateBundle(Manifest, Name) unless Bundle is
	// set.
	Name string
	// Bundle overrides the bundle path.
	Bundle string
	// Signer signs the statement. Required.
	Signer Signer
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// PredicateResult is what Predicate produced.
type PredicateResult struct {
	Attestation
	// Records are the manifest records added (or replaced): one per
	// subject, role attestation, each naming the bundle.
	Records []artifact.Record
}

// PredicateBundle is the default bundle path of a predicate named name about
// the manifest at manifest: "<manifest dir>/<manifest base>.<name>.sigstore.json",
// e.g. dist/manifest.test-result.sigstore.json.
func PredicateBundle(manifest, name string) string {
	base := strings.TrimSuffix(filepath.Base(manifest), filepath.Ext(manifest))
	return filepath.Join(filepath.Dir(manifest), base+"."+name+".sigstore.json")
}

func (p *PredicateOptions) validate() error {
	switch {
	case p.Signer == nil:
		return exitcode.Infraf("attest: no signer (internal error)")
	case p.Manifest == "":
		return exitcode.BadInputf("no manifest; give the manifest written by \"slipway build\": its artifacts are the subjects")
	case p.Name == "" && p.Bundle == "":
		return exitcode.Infraf("attest: a predicate needs a name or a bundle path (internal error)")
	case strings.ContainsAny(p.Name, `/\`) || strings.HasPrefix(p.Name, "."):
		return exitcode.Infraf("attest: predicate name %q is not a file name part (internal error)", p.Name)
	case p.PredicateType == provenance.PredicateType:
		return exitcode.Infraf("attest: SLSA provenance is attested by Run, which records it as provenance (internal error)")
	}
	if u, err := url.Parse(p.PredicateType); err != nil || u.Scheme == "" {
		return exitcode.Infraf("attest: predicate type %q is not a URI (internal error)", p.PredicateType)
	}
	if t := bytes.TrimSpace(p.Predicate); p.AppendPredicate == nil && (len(t) == 0 || t[0] != '{') {
		return exitcode.Infraf("attest: the %s predicate is not a JSON object (internal error)", p.PredicateType)
	}
	return nil
}

// Predicate signs an in-toto statement of the given predicate about every
// artifact of the manifest through the stage's own path (the same statement
// encoding, DSSE payload type and Signer as Run), writes the bundle
// atomically, and records it in the manifest with role attestation, one
// record per subject. Recording the same bundle path again replaces the
// earlier records. Nothing is written unless the statement was signed.
func Predicate(ctx context.Context, p PredicateOptions) (*PredicateResult, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	o := Options{Dir: p.Dir, Manifest: p.Manifest, Kind: kindPredicate, Bundle: p.Bundle, Signer: p.Signer, Log: p.Log}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m, err := o.readManifest()
	if err != nil {
		return nil, err
	}
	subjects, err := o.subjects(ctx, m, nil)
	if err != nil {
		return nil, err
	}
	rds, err := provenance.Subjects(subjects)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(err), o.Manifest)
	}
	var payload []byte
	if p.AppendPredicate != nil {
		payload, err = writeStatement(rds, p.PredicateType, p.PredicateSize, func(b *bytes.Buffer) error {
			b.Write(p.AppendPredicate(b.AvailableBuffer())) // in place when the room was enough
			return nil
		})
	} else {
		payload, err = encodeStatement(rds, p.PredicateType, p.Predicate)
	}
	if err != nil {
		return nil, exitcode.Infra(err)
	}
	pl := plan{subjects: subjects, predicateType: p.PredicateType, payload: payload, bundlePath: o.abs(o.Bundle)}
	if pl.bundlePath == "" {
		pl.bundlePath = PredicateBundle(o.abs(o.Manifest), p.Name)
	}
	// Refuse a bundle outside the workspace before asking for a signature.
	if err := o.inside(o.rel(pl.bundlePath)); err != nil {
		return nil, err
	}
	o.Log.Debug("signing statement", "predicateType", pl.predicateType, "subjects", len(subjects), "bytes", len(payload))
	b, err := o.Signer.SignDSSE(ctx, provenance.PayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("signing the %s statement: %w", pl.predicateType, err)
	}
	a, err := o.store(ctx, pl, b, nil)
	if err != nil {
		return nil, err
	}
	recs, err := o.recordBundles([]Attestation{a})
	if err != nil {
		return nil, err
	}
	return &PredicateResult{Attestation: a, Records: recs}, nil
}
