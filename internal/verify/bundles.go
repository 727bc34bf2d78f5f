package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// The default bundle limits (WithBundleLimits). A subject's bundles are all
// held in memory while its content is read once for every check, so both
// one file and their total are bounded.
const (
	// MaxBundleSize bounds one bundle or signature file. Attest large SBOMs
	// by digest reference rather than inline.
	MaxBundleSize = 64 << 20
	// MaxBundlesTotal bounds the bundles of one subject together.
	MaxBundlesTotal = 128 << 20
)

// WithBundleLimits sets the largest bundle or signature file read (perFile)
// and the most bytes of bundles read for one subject (total), whether from
// files or from a registry. A bundle over either limit fails its bundle
// check, naming both. The defaults are MaxBundleSize and MaxBundlesTotal.
func WithBundleLimits(perFile, total int64) Option {
	return func(v *Verifier) { v.maxBundle, v.maxBundles = perFile, total }
}

// budget counts the bytes of bundles one subject holds in memory.
type budget struct {
	perFile, total, used int64
}

func (v *Verifier) newBudget() *budget {
	return &budget{perFile: v.maxBundle, total: v.maxBundles}
}

// read reads all of r, a bundle of size bytes (-1 when unknown), refusing
// it when it is over the per-file limit or the subject's remaining total.
func (b *budget) read(r io.Reader, size int64) ([]byte, error) {
	if err := b.check(size); err != nil {
		return nil, err
	}
	limit := min(b.perFile, b.total-b.used)
	var buf bytes.Buffer
	if size >= 0 && size <= limit {
		buf.Grow(int(size) + bytes.MinRead) // ReadFrom needs MinRead free to see the end without doubling
	}
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a file that grew past the limit
	}
	n, err := io.Copy(&buf, io.LimitReader(r, limit))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	if err := b.check(n); err != nil {
		return nil, err
	}
	b.used += n
	return buf.Bytes(), nil
}

// check refuses n more bytes when they break a limit; its error names both.
func (b *budget) check(n int64) error {
	switch {
	case n > b.perFile:
		return fmt.Errorf("is larger than %s, the limit for one bundle (the limit for all bundles of a subject is %s; verify.WithBundleLimits); attest large SBOMs by digest reference instead of inline",
			regfile.FormatSize(b.perFile), regfile.FormatSize(b.total))
	case b.used+n > b.total:
		return fmt.Errorf("would bring the subject's bundles to more than %s, the limit for all bundles of a subject (%s are read already; the limit for one bundle is %s; verify.WithBundleLimits); give fewer or smaller bundles, or attest large SBOMs by digest reference",
			regfile.FormatSize(b.total), regfile.FormatSize(b.used), regfile.FormatSize(b.perFile))
	}
	return nil
}

// The file names next to a subject where bundles are looked for when none
// are given: a Sigstore bundle of a signature, of attestations, and an
// armored OpenPGP signature.
var defaultSuffixes = []string{".sigstore.json", ".intoto.sigstore.json", ".asc"}

// DefaultBundles returns the bundle files next to the subject at path that
// exist: path.sigstore.json, path.intoto.sigstore.json and path.asc.
func DefaultBundles(path string) []string {
	var out []string
	for _, s := range defaultSuffixes {
		if fi, err := os.Stat(path + s); err == nil && fi.Mode().IsRegular() {
			out = append(out, path+s)
		}
	}
	return out
}

// evidence is one loaded bundle or signature file.
type evidence struct {
	path     string
	sigstore *bundle.Bundle
	// gpg is the binary OpenPGP signature (armor removed) and its first
	// signature packet.
	gpg       []byte
	gpgPacket *packet.Signature
	// simpleSigning is set for a cosign image signature read from a .sig
	// tag: the bundle's message signature signs this payload, which must
	// name the image (cosignlayer.go).
	simpleSigning *simpleSigning
}

// loadEvidence reads and parses a bundle or signature file of subject s
// within budget b. Its error is a failed "bundle" check, with what to do
// about it.
func loadEvidence(s Subject, path string, b *budget) (*evidence, error) {
	f, err := openFile(s, path)
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v; check the path", err)
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	data, err := b.read(f, size)
	if err != nil {
		return nil, err
	}
	if want, ok := s.BundleDigests[path]; ok {
		if got := digest.SHA256(sha256.Sum256(data)); got != want {
			return nil, fmt.Errorf("is %s, but the manifest records %s: it changed after it was recorded; verify the bundle the stage wrote", got, want)
		}
	}
	return parseEvidence(path, data)
}

// parseEvidence parses a bundle or signature file's content; path names it.
func parseEvidence(path string, data []byte) (*evidence, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP SIGNATURE-----")):
		block, err := armor.Decode(bytes.NewReader(trimmed))
		if err != nil {
			return nil, fmt.Errorf("the armored OpenPGP signature does not decode: %v; give the .asc that \"gpg --detach-sign --armor\" wrote", err)
		}
		raw, err := io.ReadAll(io.LimitReader(block.Body, MaxBundleSize))
		if err != nil {
			return nil, fmt.Errorf("the armored OpenPGP signature does not decode: %v; give the .asc that \"gpg --detach-sign --armor\" wrote", err)
		}
		return gpgEvidence(path, raw)
	case bytes.HasPrefix(trimmed, []byte("{")):
		return sigstoreEvidence(path, data)
	case len(trimmed) > 0 && trimmed[0]&0x80 != 0:
		return gpgEvidence(path, data)
	}
	return nil, errors.New("is neither a Sigstore bundle (JSON) nor an OpenPGP signature; give a .sigstore.json bundle or a .asc/.sig detached signature")
}

func sigstoreEvidence(path string, data []byte) (*evidence, error) {
	// The bundle is parsed first: a document sigstore-go accepts is JSON,
	// and is never a legacy bundle (protojson refuses base64Signature, a
	// field its Bundle does not have), so the probe below would have let it
	// through. Only a refused document is probed, for the error that says
	// what it is. Probing every bundle first read each one twice.
	var b bundle.Bundle
	err := b.UnmarshalJSON(data)
	if err == nil {
		return &evidence{path: path, sigstore: &b}, nil
	}
	var probe struct {
		MediaType       string          `json:"mediaType"`
		Base64Signature json.RawMessage `json:"base64Signature"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("is not JSON: %v; give a Sigstore bundle (.sigstore.json)", err)
	}
	if probe.MediaType == "" && probe.Base64Signature != nil {
		return nil, errors.New("is a legacy cosign bundle; sign with \"cosign sign-blob --new-bundle-format\" to get a Sigstore bundle v0.3")
	}
	return nil, fmt.Errorf("is not a valid Sigstore bundle: %v", err)
}

func gpgEvidence(path string, raw []byte) (*evidence, error) {
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("is not an OpenPGP signature: %v", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("holds an OpenPGP %T packet, not a signature; give a detached signature (gpg --detach-sign)", p)
	}
	if sig.SigType != packet.SigTypeBinary && sig.SigType != packet.SigTypeText {
		return nil, fmt.Errorf("is an OpenPGP signature of type %d, not a detached signature of a file; sign with \"gpg --detach-sign\"", sig.SigType)
	}
	return &evidence{path: path, gpg: raw, gpgPacket: sig}, nil
}
