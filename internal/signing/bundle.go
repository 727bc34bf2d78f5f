package signing

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/atomicfile"
)

// MarshalBundle returns the bundle in its protobuf JSON form, the form
// cosign, sigstore-go and the Sigstore clients read.
func MarshalBundle(b *bundle.Bundle) ([]byte, error) {
	js, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle as JSON: %w", err)
	}
	return js, nil
}

// WriteBundle writes the bundle atomically to path (mode 0644).
func WriteBundle(path string, b *bundle.Bundle) error {
	js, err := MarshalBundle(b)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(js, '\n'), 0o644)
}

// CosignRekorBundle converts the bundle's first transparency log entry with
// an inclusion promise to the Rekor bundle of cosign's
// "dev.sigstore.cosign/bundle" annotation (the form cosign stores with a
// signature or attestation in a registry); nil when there is none.
func CosignRekorBundle(b *bundle.Bundle) *cbundle.RekorBundle {
	for _, e := range b.GetVerificationMaterial().GetTlogEntries() {
		if e.GetInclusionPromise() == nil || e.GetLogId() == nil {
			continue
		}
		return &cbundle.RekorBundle{
			SignedEntryTimestamp: e.GetInclusionPromise().GetSignedEntryTimestamp(),
			Payload: cbundle.RekorPayload{
				Body:           base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()),
				IntegratedTime: e.GetIntegratedTime(),
				LogIndex:       e.GetLogIndex(),
				LogID:          hex.EncodeToString(e.GetLogId().GetKeyId()),
			},
		}
	}
	return nil
}
