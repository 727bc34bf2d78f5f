package attest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
	wsroot "github.com/slipway/actions/internal/workspace" // the tests have a workspace helper
)

// Signer signs a payload as a DSSE envelope inside a Sigstore bundle.
// *signing.Signer is the production Signer.
type Signer interface {
	SignDSSE(ctx context.Context, payloadType string, payload []byte) (*bundle.Bundle, error)
}

// Default bundle file names; see docs/attest.md.
const (
	// BundleSuffix is added to a subject file's or an SBOM's path to name
	// its attestation bundle.
	BundleSuffix = ".intoto.sigstore.json"
	// ManifestProvenanceName is the provenance bundle of a whole manifest,
	// written in the manifest's directory.
	ManifestProvenanceName = "provenance.intoto.sigstore.json"
)

// Options configures one run of the stage. Exactly one of Subject, Manifest
// and Image selects the subjects, except that Manifest may accompany Subject
// (the subject's digest then comes from the manifest) or Image (the manifest
// then supplies the build record).
type Options struct {
	// Dir is the workspace; relative paths are relative to it.
	Dir string
	// Subject is a file to attest.
	Subject string
	// Manifest is the artifact manifest written by the build stage.
	Manifest string
	// Image is a registry reference to attest; attestations are attached to
	// it in its registry.
	Image string
	// Kind selects provenance or an SBOM attestation.
	Kind Kind
	// SBOM is the SBOM to attest (SBOM kinds). Empty with a Manifest
	// attests every SBOM of that kind the manifest records.
	SBOM string
	// SBOMInlineLimit is the largest SBOM, in bytes, inlined into its
	// statement; larger ones are attested by digest reference.
	SBOMInlineLimit int64
	// Bundle overrides the bundle path when one bundle is written.
	Bundle string
	// Builder is who builds (provenance.DetectBuilder); required for
	// provenance.
	Builder *provenance.Builder
	// Version is the slipway version recorded in provenance.
	Version string
	// Statement, for provenance with a Manifest, is a statement already
	// made by another build type (provenance.NewSlurm: a dispatched job's
	// outputs) about the manifest's artifacts; it is signed, written and
	// recorded exactly as the one made from the manifest would be, and
	// Builder is not needed.
	Statement []byte
	// Signer signs each statement. Required.
	Signer Signer
	// Registry configures access to Image's registry.
	Registry Registry
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// Attestation is one signed statement and where it went.
type Attestation struct {
	PredicateType string
	Subjects      []artifact.Subject
	// BundlePath is the bundle file (workspace-relative when inside the
	// workspace); empty when the bundle went only to a registry.
	BundlePath   string
	BundleDigest digest.SHA256
	BundleSize   int64
	// Attached lists where the attestation was stored in a registry.
	Attached []string
}

// Result is what a run produced.
type Result struct {
	Attestations []Attestation
	// ManifestUpdated is true when provenance (or, for an SBOM, attestation)
	// records were added to the manifest.
	ManifestUpdated bool
}

// plan is one statement to sign, with where its bundle goes.
type plan struct {
	subjects      []artifact.Subject
	predicateType string
	payload       []byte
	bundlePath    string // absolute; empty: registry only
}

func (o *Options) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.Dir, p)
}

// inside checks that p (absolute, or relative to the workspace) leads
// inside the workspace through every symbolic link: every file attested or
// written is there.
func (o *Options) inside(p string) error {
	if _, err := wsroot.Resolve(o.Dir, p); err != nil {
		return exitcode.WithFile(exitcode.BadInput(err), p)
	}
	return nil
}

// rel names an absolute path for people and manifests: slash-separated and
// relative to the workspace when inside it, else as is.
func (o *Options) rel(p string) string {
	if r, err := filepath.Rel(o.Dir, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(r)
	}
	return p
}

func (o *Options) validate() error {
	switch {
	case o.Signer == nil:
		return errors.New("attest: no signer (internal error)")
	case o.Subject == "" && o.Manifest == "" && o.Image == "":
		return exitcode.BadInputf("nothing to attest; set subject (a file), manifest (from \"slipway build\") or image (a registry reference)")
	case o.Subject != "" && o.Image != "":
		return exitcode.BadInputf("subject and image are both set; attest one of them per step")
	case o.Kind == KindProvenance && o.SBOM != "":
		return exitcode.BadInputf("sbom is set but predicate-type is %s; set predicate-type to cyclonedx or spdx to attest an SBOM", o.Kind)
	case o.Kind.IsSBOM() && o.SBOM == "" && o.Manifest == "":
		return exitcode.BadInputf("predicate-type %s needs an SBOM: set sbom, or manifest to attest the SBOMs it records", o.Kind)
	case o.SBOMInlineLimit < 0:
		return exitcode.BadInputf("sbom-inline-limit is negative (%d); use 0 to reference every SBOM by digest", o.SBOMInlineLimit)
	case o.Statement != nil && (o.Kind != KindProvenance || o.Manifest == "" || o.Subject != "" || o.Image != ""):
		return errors.New("attest: a made statement is provenance about a manifest's artifacts (internal error)")
	case o.Kind == KindProvenance && o.Builder == nil && o.Statement == nil:
		return errors.New("attest: provenance needs a builder (internal error: call provenance.DetectBuilder)")
	}
	return nil
}

// Run makes, signs and stores the attestations.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var m *artifact.Manifest
	if o.Manifest != "" {
		var err error
		if m, err = o.readManifest(); err != nil {
			return nil, err
		}
	}
	var img *image
	if o.Image != "" {
		var err error
		if img, err = o.Registry.resolve(ctx, o.Image); err != nil {
			return nil, err
		}
	}
	subjects, err := o.subjects(ctx, m, img)
	if err != nil {
		return nil, err
	}
	var plans []plan
	if o.Kind == KindProvenance {
		plans, err = o.provenancePlan(m, img, subjects)
	} else {
		plans, err = o.sbomPlans(ctx, m, img, subjects)
	}
	if err != nil {
		return nil, err
	}
	if len(plans) > 1 && o.Bundle != "" {
		return nil, exitcode.BadInputf("bundle names one file but %d SBOMs are attested; leave bundle empty to write each next to its SBOM", len(plans))
	}

	// Sign everything before writing anything.
	bundles := make([]*bundle.Bundle, len(plans))
	for i, p := range plans {
		o.Log.Debug("signing statement", "predicateType", p.predicateType, "subjects", len(p.subjects), "bytes", len(p.payload))
		if bundles[i], err = o.Signer.SignDSSE(ctx, provenance.PayloadType, p.payload); err != nil {
			return nil, fmt.Errorf("signing the %s statement: %w", p.predicateType, err)
		}
	}
	res := &Result{}
	for i, p := range plans {
		a, err := o.store(ctx, p, bundles[i], img)
		if err != nil {
			return nil, err
		}
		res.Attestations = append(res.Attestations, a)
	}
	if m != nil {
		recs, err := o.recordBundles(res.Attestations)
		if err != nil {
			return nil, err
		}
		res.ManifestUpdated = len(recs) > 0
	}
	return res, nil
}

// readManifest reads the manifest input.
func (o *Options) readManifest() (*artifact.Manifest, error) {
	m, err := artifact.ReadManifest(o.abs(o.Manifest))
	if err != nil {
		return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("%w; give the manifest written by \"slipway build\"", err)), o.Manifest)
	}
	return m, nil
}

func (o *Options) provenancePlan(m *artifact.Manifest, img *image, subjects []artifact.Subject) ([]plan, error) {
	payload := o.Statement
	if payload == nil {
		var build *artifact.BuildInfo
		if m != nil {
			build = m.Build
		}
		st, err := provenance.New(provenance.Options{Subjects: subjects, Build: build, Builder: o.Builder, Version: o.Version})
		if err != nil {
			// Everything New checks comes from the inputs: the subjects and the
			// manifest's build record.
			return nil, exitcode.WithFile(exitcode.BadInput(err), o.Manifest)
		}
		if payload, err = provenance.Marshal(st); err != nil {
			return nil, exitcode.Infra(err)
		}
	}
	p := plan{subjects: subjects, predicateType: provenance.PredicateType, payload: payload, bundlePath: o.abs(o.Bundle)}
	if p.bundlePath == "" {
		switch {
		case img != nil:
			// The registry holds it; a file only when asked for.
		case o.Subject != "":
			p.bundlePath = o.abs(o.Subject) + BundleSuffix
		default:
			p.bundlePath = filepath.Join(filepath.Dir(o.abs(o.Manifest)), ManifestProvenanceName)
		}
	}
	return []plan{p}, nil
}
