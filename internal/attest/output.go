package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// BundleMediaType is the media type of the bundles written.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// store writes a signed statement's bundle file and attaches it to the
// image.
func (o *Options) store(ctx context.Context, p plan, b *bundle.Bundle, img *image) (Attestation, error) {
	a := Attestation{PredicateType: p.predicateType, Subjects: p.subjects}
	js, err := encodeBundle(b)
	if err != nil {
		return a, exitcode.Infra(fmt.Errorf("encoding the bundle: %w", err))
	}
	a.BundleDigest, a.BundleSize = digest.SHA256(sha256.Sum256(js)), int64(len(js))
	if p.bundlePath != "" {
		a.BundlePath = o.rel(p.bundlePath)
		if err := o.inside(p.bundlePath); err != nil {
			return a, err
		}
		if err := atomicfile.WriteFile(p.bundlePath, js, 0o644); err != nil {
			return a, exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing bundle: %w", err)), a.BundlePath)
		}
		o.Log.Info("wrote attestation", "bundle", a.BundlePath, "predicateType", p.predicateType, "subjects", len(p.subjects))
	}
	if img != nil {
		if a.Attached, err = o.Registry.attach(ctx, img, b, js, p.predicateType); err != nil {
			return a, err
		}
		for _, loc := range a.Attached {
			o.Log.Info("attached attestation", "image", img.digest.String(), "at", loc)
		}
	}
	return a, nil
}

// encodeBundle is the bundle's protobuf JSON form and a newline, the bytes
// of json.Marshal(b) and "\n" (compacted: protojson varies its white space
// on purpose). A large payload (a test-result statement is 450 KB) is
// base64-encoded once, straight into the one buffer the bundle is written
// to: protojson encodes the bundle around a placeholder payload, and the
// payload takes its place. Growing and copying the whole took half a dozen
// buffers of 600 KB, each freshly touched memory. b is changed while it is
// encoded, and restored.
func encodeBundle(b *bundle.Bundle) ([]byte, error) {
	env := b.GetDsseEnvelope()
	if env == nil || len(env.GetPayload()) < 4<<10 {
		return encodeBundleWhole(b)
	}
	payload := env.Payload
	env.Payload = payloadPlaceholder[:]
	js, err := protojson.Marshal(b.Bundle)
	env.Payload = payload
	if err != nil {
		return nil, err
	}
	js, ok := compactJSON(js)
	mark := []byte(`"payload":"` + base64.StdEncoding.EncodeToString(payloadPlaceholder[:]) + `"`)
	i := bytes.Index(js, mark)
	if !ok || i < 0 || bytes.Contains(js[i+1:], mark) {
		return encodeBundleWhole(b)
	}
	head, tail := js[:i+len(`"payload":"`)], js[i+len(mark)-1:]
	n := base64.StdEncoding.EncodedLen(len(payload))
	out := make([]byte, len(head)+n, len(head)+n+len(tail)+1)
	copy(out, head)
	base64.StdEncoding.Encode(out[len(head):], payload)
	out = append(out, tail...)
	return append(out, '\n'), nil
}

// payloadPlaceholder stands for the payload while protojson encodes a
// bundle: bytes whose base64 form no other field of a bundle holds (the
// first 24 bytes of the SHA-256 of "slipway bundle payload placeholder";
// encodeBundle checks that it is found once).
var payloadPlaceholder = [24]byte{
	0x26, 0x29, 0x32, 0x3e, 0xa2, 0x06, 0xce, 0x24, 0xd9, 0xbe, 0x4b, 0xe8,
	0x40, 0xa8, 0x9c, 0xfd, 0x2a, 0xd0, 0xb2, 0x53, 0xc4, 0x66, 0x6f, 0xbd,
}

// encodeBundleWhole is encodeBundle without the placeholder: one buffer
// sized for the payload, compacted in place.
func encodeBundleWhole(b *bundle.Bundle) ([]byte, error) {
	// Room for the base64 payload and the signature, certificates and log
	// entries around it.
	size := base64.StdEncoding.EncodedLen(len(b.GetDsseEnvelope().GetPayload())) + 16<<10
	js, err := protojson.MarshalOptions{}.MarshalAppend(make([]byte, 0, size), b.Bundle)
	if err != nil {
		return nil, err
	}
	js, ok := compactJSON(js)
	if !ok {
		// json.Marshal escapes these for HTML: no bundle holds them
		// outside its base64, but keep its bytes all the same.
		if js, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	return append(js, '\n'), nil
}

// compactJSON removes the white space between the tokens of js, valid JSON
// as protojson writes it, in place: what json.Compact writes for it. It
// returns false when a string holds what json.Marshal would escape for
// HTML ('<', '>', '&', U+2028, U+2029), which this does not.
func compactJSON(js []byte) ([]byte, bool) {
	out := 0
	for i := 0; i < len(js); {
		c := js[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		case '"':
			end, ok := stringEnd(js, i+1)
			if !ok {
				return js, false
			}
			out += copy(js[out:], js[i:end])
			i = end
			continue
		}
		js[out] = c
		out++
		i++
	}
	return js[:out], true
}

// inString marks the bytes a string's scan stops at: its end, an escape,
// and what json.Marshal escapes for HTML (0xe2 starts U+2028 and U+2029).
var inString = [256]bool{'"': true, '\\': true, '<': true, '>': true, '&': true, 0xe2: true}

// stringEnd is the offset just after the closing quote of the string whose
// content starts at i; false when the string holds what json.Marshal
// escapes for HTML.
func stringEnd(js []byte, i int) (int, bool) {
	for i < len(js) {
		if !inString[js[i]] {
			i++
			continue
		}
		switch js[i] {
		case '"':
			return i + 1, true
		case '\\':
			i += 2
		case 0xe2:
			if i+2 < len(js) && js[i+1] == 0x80 && (js[i+2] == 0xa8 || js[i+2] == 0xa9) {
				return i, false
			}
			i++
		default:
			return i, false
		}
	}
	return len(js), true
}

// recordBundles adds one record per subject of each written bundle to the
// manifest, writes it back and returns the records added: provenance
// records for provenance, and attestation records for SBOM attestations and
// predicates made elsewhere (so that verify finds them wherever they are
// written, and fails when they go missing). Records are
// named "<bundle path>#<subject name>" so that each subject gets its own
// (the naming artifact.Record.Validate binds). The manifest is read again
// just before the atomic write, keeping records other steps added meanwhile.
func (o *Options) recordBundles(atts []Attestation) ([]artifact.Record, error) {
	role := artifact.RoleAttestation
	if o.Kind == KindProvenance {
		role = artifact.RoleProvenance
	}
	path := o.abs(o.Manifest)
	m, err := artifact.ReadManifest(path)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading the manifest again to record the attestations: %w", err)), o.Manifest)
	}
	var added []artifact.Record
	for _, a := range atts {
		if a.BundlePath == "" {
			continue
		}
		if err := artifact.CheckPath(a.BundlePath); err != nil {
			return nil, exitcode.WithFile(exitcode.BadInputf("the bundle %s, so manifest %q cannot record it: a manifest records files inside the workspace only; write the bundle inside the workspace (leave bundle empty to write it next to its subject)", err, o.Manifest), a.BundlePath)
		}
		for _, s := range a.Subjects {
			r := artifact.Record{
				Name:      a.BundlePath + "#" + s.Name,
				Path:      a.BundlePath,
				Digest:    a.BundleDigest,
				Size:      a.BundleSize,
				MediaType: BundleMediaType,
				Role:      role,
				Describes: s.Digest,
			}
			m.Add(r)
			added = append(added, r)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	if err := m.WriteFile(path); err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("updating manifest: %w", err)), o.Manifest)
	}
	return added, nil
}
