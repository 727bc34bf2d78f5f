package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// MaxBundleSize bounds a bundle or signature file. Attest large SBOMs by
// digest reference rather than inline.
const MaxBundleSize = 64 << 20

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

// loadEvidence reads and parses a bundle or signature file. Its error is a
// failed "bundle" check, with what to do about it.
func loadEvidence(path string) (*evidence, error) {
	data, err := readSmall(path, MaxBundleSize)
	if err != nil {
		return nil, err
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
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("is not a valid Sigstore bundle: %v", err)
	}
	return &evidence{path: path, sigstore: &b}, nil
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

// readSmall reads a whole file of at most limit bytes.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v; check the path", err)
	}
	defer f.Close()
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	if n > limit {
		return nil, fmt.Errorf("is larger than %d MiB; attest large SBOMs by digest reference instead of inline", limit>>20)
	}
	return b.Bytes(), nil
}
