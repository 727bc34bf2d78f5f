package upload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/workspace"
)

// checkWhat checks that the options name one thing to upload.
func (o Options) checkWhat() error {
	n := 0
	for _, v := range []string{o.Manifest, o.Subject, o.Reference} {
		if v != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return exitcode.BadInputf("give exactly one of the inputs \"manifest\" (a build manifest), \"subject\" (a file, with \"bundles\") and \"reference\" (an image in a registry, registry/repo@sha256:<hex>)")
	case len(o.Bundles) > 0 && o.Subject == "":
		return exitcode.BadInputf("input \"bundles\" goes with \"subject\": a manifest records its bundles, and an image's are attached to it in its registry")
	case o.Subject != "" && len(o.Bundles) == 0:
		return exitcode.BadInputf("input \"subject\" needs \"bundles\": the subject's signature bundle, provenance, SBOMs and SBOM attestations, comma-separated")
	}
	if o.Reference != "" {
		return CheckReference(o.Reference)
	}
	return nil
}

// CheckReference checks an image reference for admission by reference: it
// names its registry and is pinned by a sha256 digest.
func CheckReference(ref string) error {
	r, err := registryref.Parse(ref)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"reference\": %w", err))
	}
	d, ok := r.(name.Digest)
	if !ok {
		return exitcode.BadInputf("input \"reference\": %q names a tag, which can move: give the image's digest, registry/repo@sha256:<hex> (slipway push outputs it as pinned-ref; crane digest %s prints it)", ref, ref)
	}
	if _, err := digest.Parse(d.DigestStr()); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"reference\": %q: %w; only sha256 images can be admitted", ref, err))
	}
	return nil
}

// runReference asks the server to admit the image o.Reference and writes
// the receipt to o.Receipt, or RELEASE-ID.receipt in the workspace.
func runReference(ctx context.Context, c *client, o Options) (*Result, error) {
	rel, created, err := c.admitReference(ctx, o.Reference)
	if err != nil {
		return nil, err
	}
	res := &Result{Release: *rel, Created: created}
	return res, writeReceipt(o, o.Dir, res)
}

// runSingle uploads the subject and its bundles as a release of their own:
// the manifest SingleManifest writes, admitted as a build manifest would
// be. The receipt goes to o.Receipt, or RELEASE-ID.receipt beside the
// subject.
func runSingle(ctx context.Context, c *client, o Options) (*Result, error) {
	m, err := SingleManifest(ctx, o.Dir, o.Subject, o.Bundles)
	if err != nil {
		return nil, err
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("encoding the release's manifest: %w", err))
	}
	res, err := c.release(ctx, o, m, raw)
	if err != nil {
		return res, err
	}
	subject := m.ByRole(artifact.RoleArtifact)[0]
	return res, writeReceipt(o, filepath.Dir(filepath.Join(o.Dir, filepath.FromSlash(subject.Path))), res)
}

// SingleManifest is the manifest of a release of single files: the subject
// (a path inside dir) as its one artifact, and each bundle (paths inside
// dir) as the record its content says it is: an SBOM (CycloneDX or SPDX
// JSON), an OpenPGP signature, or a Sigstore bundle holding a message
// signature (signature), SLSA provenance (provenance, named
// "BUNDLE#SUBJECT") or another attestation (attestation). Records are
// named by their paths relative to dir, as the stages name them, so that
// the provenance's subject name must be the subject's path there.
func SingleManifest(ctx context.Context, dir, subject string, bundles []string) (*artifact.Manifest, error) {
	art, err := fileRecord(ctx, dir, "subject", subject)
	if err != nil {
		return nil, err
	}
	art.Role = artifact.RoleArtifact
	m := artifact.NewManifest()
	m.Add(art)
	for _, b := range bundles {
		rec, err := fileRecord(ctx, dir, "bundles", b)
		if err != nil {
			return nil, err
		}
		p, _ := workspace.Resolve(dir, filepath.FromSlash(rec.Path))
		if rec.Role, err = classify(p); err != nil {
			return nil, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"bundles\": %q %w", b, err)), b)
		}
		rec.Describes = art.Digest
		if rec.Role == artifact.RoleProvenance || rec.Role == artifact.RoleAttestation {
			rec.Name = rec.Path + "#" + art.Name
		}
		m.Add(rec)
	}
	if err := m.Validate(); err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("the release of %q: %w", subject, err))
	}
	return m, nil
}

// fileRecord is the record of the file p (input in), named by its clean
// path relative to dir, with its digest, size and media type.
func fileRecord(ctx context.Context, dir, in, p string) (artifact.Record, error) {
	rel := p
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return artifact.Record{}, exitcode.BadInput(fmt.Errorf("input %q: %q is not inside the workspace %q", in, p, dir))
		}
		rel = r
	}
	n := filepath.ToSlash(filepath.Clean(rel))
	if err := artifact.CheckPath(n); err != nil {
		return artifact.Record{}, exitcode.BadInput(fmt.Errorf("input %q: path %v; give a path inside the workspace", in, err))
	}
	abs, err := workspace.Resolve(dir, filepath.FromSlash(n))
	if err != nil {
		return artifact.Record{}, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input %q: %w", in, err)), p)
	}
	f, err := regfile.Open(abs)
	if err != nil {
		return artifact.Record{}, exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input %q: %w; check the path", in, err)), p)
	}
	head := make([]byte, mediatype.HeadSize)
	k, _ := io.ReadFull(f, head)
	f.Close()
	d, size, err := digest.FileContext(ctx, abs)
	if err != nil {
		return artifact.Record{}, exitcode.WithFile(exitcode.Infra(fmt.Errorf("input %q: hashing %q: %w", in, p, err)), p)
	}
	return artifact.Record{Name: n, Path: n, Digest: d, Size: size, MediaType: mediatype.Detect(n, head[:k])}, nil
}

// classify says what a bundle file is from its content, reading JSON as a
// stream (an SBOM may be large): its top-level keys decide.
func classify(p string) (artifact.Role, error) {
	f, err := regfile.Open(p)
	if err != nil {
		return "", fmt.Errorf("cannot be read: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(64)
	head = bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("-----BEGIN PGP SIGNATURE-----")), len(head) > 0 && head[0]&0x80 != 0:
		return artifact.RoleSignature, nil
	case !bytes.HasPrefix(head, []byte("{")):
		return "", errors.New(notEvidence)
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return "", errors.New(notEvidence)
	}
	var mediaType, predicateType string
	var message, dsse bool
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("is not valid JSON: %v", err)
		}
		switch key {
		case "bomFormat", "spdxVersion":
			return artifact.RoleSBOM, nil
		case "mediaType":
			err = dec.Decode(&mediaType)
		case "messageSignature":
			message = true
			err = skipValue(dec)
		case "dsseEnvelope":
			dsse = true
			var env struct {
				Payload []byte `json:"payload"`
			}
			if err = dec.Decode(&env); err == nil {
				var st struct {
					PredicateType string `json:"predicateType"`
				}
				json.Unmarshal(env.Payload, &st)
				predicateType = st.PredicateType
			}
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return "", fmt.Errorf("is not valid JSON: %v", err)
		}
	}
	if !strings.HasPrefix(mediaType, "application/vnd.dev.sigstore.bundle") {
		return "", errors.New(notEvidence)
	}
	switch {
	case message:
		return artifact.RoleSignature, nil
	case dsse && strings.HasPrefix(predicateType, "https://slsa.dev/provenance/"):
		return artifact.RoleProvenance, nil
	case dsse:
		return artifact.RoleAttestation, nil
	}
	return "", errors.New("is a Sigstore bundle with neither a message signature nor a DSSE envelope; give the bundle slipway sign or attest wrote")
}

const notEvidence = "is neither a Sigstore bundle (.sigstore.json), an OpenPGP signature (.asc, .sig) nor an SBOM (CycloneDX or SPDX JSON); give the files slipway sign, attest and sbom wrote for the subject"

// skipValue reads one JSON value of dec without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
