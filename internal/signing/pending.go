package signing

import (
	"context"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Pending is a Signer being loaded in the background: a cosign key's scrypt
// decryption, a KMS round trip or a keyless token and certificate take as
// long as hashing hundreds of megabytes, so callers start loading before
// they read the artifact and wait only when they sign.
type Pending struct {
	done chan struct{}
	s    *Signer
	err  error
}

// Start loads the signer opts names (New, then Prepare) in the background.
// When cancel is not nil, a failed load cancels with the load's error as
// the cause, so that a read in progress stops at once.
func Start(ctx context.Context, opts Options, cancel context.CancelCauseFunc) *Pending {
	p := &Pending{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		s, err := New(ctx, opts)
		if err == nil {
			err = s.Prepare(ctx)
		}
		p.s, p.err = s, err
		if err != nil && cancel != nil {
			cancel(err)
		}
	}()
	return p
}

// Wait returns the loaded signer or the load's error; a nil Pending (no
// Sigstore signing) returns nil, nil.
func (p *Pending) Wait() (*Signer, error) {
	if p == nil {
		return nil, nil
	}
	<-p.done
	return p.s, p.err
}

// SignDSSE waits for the load (or for ctx), then signs as Signer.SignDSSE
// does; the load's error is the error of every signature.
func (p *Pending) SignDSSE(ctx context.Context, payloadType string, payload []byte) (*bundle.Bundle, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if p.err != nil {
		return nil, p.err
	}
	return p.s.SignDSSE(ctx, payloadType, payload)
}
