package attest

import (
	"context"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Deferred returns a Signer made by load in the background, so that the
// slow part of getting ready to sign — decrypting a key, fetching a token
// and a certificate — overlaps the one pass over a subject file. Signing
// waits for load; its error is the error of every signature.
func Deferred(ctx context.Context, load func(context.Context) (Signer, error)) Signer {
	d := &deferred{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.s, d.err = load(ctx)
	}()
	return d
}

type deferred struct {
	done chan struct{}
	s    Signer
	err  error
}

func (d *deferred) SignDSSE(ctx context.Context, payloadType string, payload []byte) (*bundle.Bundle, error) {
	select {
	case <-d.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if d.err != nil {
		return nil, d.err
	}
	return d.s.SignDSSE(ctx, payloadType, payload)
}
