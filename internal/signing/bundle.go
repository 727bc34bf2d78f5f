package signing

import (
	"encoding/json"
	"fmt"

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
