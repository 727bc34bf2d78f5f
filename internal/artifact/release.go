package artifact

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/canonjson"
	"github.com/slipway/actions/internal/digest"
)

// Admitted is what names a manifest as a release of the control plane.
type Admitted struct {
	// ID is "r-" and the first 16 hex digits of Digest.
	ID string
	// Digest is the SHA-256 of Canonical: the release's manifestDigest.
	Digest digest.SHA256
	// Canonical is the RFC 8785 JSON of the manifest without its receipt
	// records, as the control plane keeps it.
	Canonical []byte
	// Manifest is m without its receipt records.
	Manifest *Manifest
}

// AdmittedAs returns the release id and manifest digest the control plane
// gives m: receipt records are dropped (a client adds them after
// admission), the rest is canonicalised (RFC 8785) and hashed, so that the
// same manifest, with or without its receipts and however indented, is the
// same release. The server admits by it and a dispatcher checks a local
// manifest against a receipt with it: one definition.
func AdmittedAs(m *Manifest) (*Admitted, error) {
	kept := &Manifest{MediaType: m.MediaType, Build: m.Build}
	for _, r := range m.Records {
		if r.Role != RoleReceipt {
			kept.Records = append(kept.Records, r)
		}
	}
	if len(kept.ByRole(RoleArtifact)) == 0 {
		return nil, errors.New("the manifest has no artifact record: use the manifest slipway build wrote")
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	canon, err := canonjson.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalizing the manifest: %w", err)
	}
	d := digest.SHA256(sha256.Sum256(canon))
	return &Admitted{ID: "r-" + d.Hex()[:16], Digest: d, Canonical: canon, Manifest: kept}, nil
}
