package verify

import (
	"context"
	"crypto"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
)

// Verifier checks subjects against one trust policy. It is safe for
// concurrent use.
type Verifier struct {
	policy *policy.Policy
	now    func() time.Time
	log    *slog.Logger
	remote []remote.Option
	// maxBundle and maxBundles bound one bundle and one subject's bundles.
	maxBundle, maxBundles int64
	// failedJobs accepts outputs of dispatched jobs that did not complete
	// with exit code 0 (WithFailedJobs).
	failedJobs bool
	// imageBundles sees the Sigstore bundles read from image referrers
	// (WithImageBundles).
	imageBundles func(image digest.SHA256, where string, data []byte)
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock sets the clock used for maximum age and key expiry.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithLogger sets the logger for debug messages; silent by default.
func WithLogger(l *slog.Logger) Option { return func(v *Verifier) { v.log = l } }

// WithFailedJobs accepts the outputs of a dispatched Slurm job that did
// not complete with exit code 0 (FAILED, TIMEOUT, OUT_OF_MEMORY, …): their
// check "job" passes, naming the job's final state. By default it fails:
// an output of a failed run is evidence of that run, not a result.
func WithFailedJobs() Option { return func(v *Verifier) { v.failedJobs = true } }

// New returns a Verifier for policy p.
func New(p *policy.Policy, opts ...Option) *Verifier {
	v := &Verifier{policy: p, now: time.Now, log: slog.New(slog.DiscardHandler), maxBundle: MaxBundleSize, maxBundles: MaxBundlesTotal}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Subject is one artifact to verify and the evidence about it.
type Subject struct {
	// Name is the subject's name in the report (its manifest name or path).
	Name string
	// Path is the file to read. Exactly one of Path and Image is set.
	Path string
	// Reader, when set, is where a file subject's bytes are read from
	// instead of opening Path (which then only names it): a caller that must
	// use exactly the bytes verified opens the file once and hands it over.
	Reader io.Reader
	// Tee, when set, receives every byte of a file subject as it is read, in
	// parallel with the hashing: a private copy of exactly what was
	// verified. An error writing it fails the read.
	Tee io.Writer
	// Image is a registry image reference; its Sigstore bundles are read
	// from the registry, where they are attached as OCI referrers.
	Image string
	// Digest, when not zero, is the digest the file must have (from a
	// manifest).
	Digest digest.SHA256
	// Bundles are Sigstore bundle and OpenPGP signature files about it.
	// DefaultBundles(Path) is used when empty.
	Bundles []string
	// BundleDigests are the digests a manifest records for some of the
	// Bundles, by path: such a bundle that is missing or has another
	// digest fails.
	BundleDigests map[string]digest.SHA256
	// SBOMs are SBOM documents a manifest says describe the subject; an SBOM
	// attestation that references its SBOM by digest is checked against
	// them.
	SBOMs []artifact.Record
	// SBOMDir resolves the SBOM records' relative paths.
	SBOMDir string
	// Workspace, when set, is the directory every file of the subject (Path,
	// Bundles, SBOMs) must be inside, also through symbolic links: set for
	// the subjects of a manifest, whose paths nobody signed.
	Workspace string
	// root is Workspace opened once for all the files VerifyManifest
	// reads (opening it per file cost two system calls each); nil: each
	// file opens Workspace itself.
	root *os.Root
}

// Verify checks every subject and returns the report. Failed checks are in
// the report; the error is only for a cancelled context.
func (v *Verifier) Verify(ctx context.Context, subjects []Subject) (*Report, error) {
	r := &Report{Policy: v.policy.Source}
	for _, s := range subjects {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sr, err := v.subject(ctx, s)
		if err != nil {
			return nil, err
		}
		r.Add(sr)
	}
	return r, nil
}

// found is what the checks of one subject's bundles established.
type found struct {
	signed       bool              // some bundle passed its signature and digest checks
	attestations map[string]string // predicate type -> first bundle attesting it
	times        []timeEvidence
	provenance   []signedSubject // subjects of verified provenance that passed its rules
	sources      []string        // source repositories that provenance names
	inputs       []releaseInput  // input releases a verified dispatch provenance names
	dispatched   bool            // a verified dispatch provenance is about the subject
	tests        []testResult    // verified test-result attestations about the subject
	scans        []vulnScan      // verified vulns attestations about the subject
}

func (v *Verifier) subject(ctx context.Context, s Subject) (*SubjectReport, error) {
	rep := &SubjectReport{Name: s.Name, Path: s.Path}
	defer rep.finish()
	var (
		evs    []*evidence
		sums   map[crypto.Hash][]byte
		gpgRes []gpgResult
		gpgEvs []*evidence
	)
	switch {
	case s.Image != "":
		d, loaded, err := v.imageEvidence(ctx, rep, s)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.failRead(CheckBundle, "", err, "%v", err)
			return rep, nil
		}
		evs, sums = loaded, map[crypto.Hash][]byte{crypto.SHA256: d[:]}
		rep.Digest, rep.Size = d.String(), -1
		for _, ev := range evs {
			if ev.gpg != nil {
				rep.fail(CheckSignature, ev.path, "OpenPGP signatures of images are not supported; sign the image with Sigstore")
			}
		}
	case s.Path != "":
		evs = v.fileEvidence(rep, s)
		hashes := []crypto.Hash{crypto.SHA256}
		var gpgChecks []gpgCheck
		for _, ev := range evs {
			switch {
			case ev.sigstore != nil:
				if h, ok := messageHash(ev); ok && !slices.Contains(hashes, h) {
					hashes = append(hashes, h)
				}
			case ev.gpg != nil:
				if gc, ok := v.planGPG(rep, ev); ok {
					gpgChecks = append(gpgChecks, gc)
					gpgEvs = append(gpgEvs, ev)
				}
			}
		}
		res, err := readSubject(ctx, s, hashes, gpgChecks)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.fail(CheckDigest, "", "cannot read the subject: %v", err)
			return rep, nil
		}
		sums, gpgRes = res.sums, res.gpg
		rep.Digest, rep.Size = "sha256:"+hex.EncodeToString(sums[crypto.SHA256]), res.size
		if !s.Digest.IsZero() {
			if s.Digest.String() == rep.Digest {
				rep.pass(CheckDigest, "", "", "content is the manifest's %s", s.Digest)
			} else {
				rep.fail(CheckDigest, "", "content is %s, but the manifest says %s: the file changed after the build", rep.Digest, s.Digest)
			}
		}
	default:
		rep.fail(CheckDigest, "", "the subject has neither a file nor an image to verify")
		return rep, nil
	}

	f := &found{attestations: map[string]string{}}
	for i, ev := range gpgEvs {
		v.checkGPG(rep, ev, gpgRes[i], f)
	}
	for _, ev := range evs {
		if ev.sigstore != nil {
			v.checkSigstore(rep, ev, sums, s, f)
		}
	}
	v.checkRequirements(rep, f)
	v.checkTests(rep, f)
	v.checkVulns(rep, f)
	v.checkAge(rep, f)
	rep.provenance, rep.inputs, rep.dispatched = f.provenance, f.inputs, f.dispatched
	for _, src := range f.sources {
		if !slices.Contains(rep.Sources, src) {
			rep.Sources = append(rep.Sources, src)
		}
	}
	return rep, nil
}

// fileEvidence loads a file subject's bundles: those given, or those next
// to it.
func (v *Verifier) fileEvidence(rep *SubjectReport, s Subject) []*evidence {
	paths := s.Bundles
	if len(paths) == 0 {
		paths = DefaultBundles(s.Path)
	}
	if len(paths) == 0 {
		rep.fail(CheckBundle, "", "no bundle or signature found: looked for %s; pass the bundle files", strings.Join(defaultNames(s.Path), ", "))
	}
	var evs []*evidence
	b := v.newBudget()
	for _, p := range paths {
		ev, err := loadEvidence(s, p, b)
		if err != nil {
			rep.fail(CheckBundle, p, "%v", err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs
}

func defaultNames(path string) []string {
	out := make([]string, len(defaultSuffixes))
	for i, s := range defaultSuffixes {
		out[i] = baseName(path) + s
	}
	return out
}

// checkRequirements adds the checks about the subject as a whole: that some
// signature verified, and that the required attestations are present.
func (v *Verifier) checkRequirements(rep *SubjectReport, f *found) {
	p := v.policy
	for _, t := range p.RequiredPredicateTypes {
		if b, ok := f.attestations[t]; ok {
			rep.pass(CheckPredicate, "", "", "required predicate type %q is attested (%s)", t, baseName(b))
		} else {
			rep.fail(CheckPredicate, "", "no verified attestation of required predicate type %q names this subject; attest it (e.g. slipway attest) and pass its bundle", t)
		}
	}
	if p.RequiresProvenance() && !slices.Contains(p.RequiredPredicateTypes, policy.SLSAProvenanceV1) {
		if _, ok := f.attestations[policy.SLSAProvenanceV1]; !ok {
			rep.fail(CheckProvenance, "", "the policy constrains builders or source repositories, but no verified SLSA v1 provenance names this subject; pass its provenance bundle")
		}
	}
}
