package blobstore

import (
	"context"
	"fmt"
	"io"

	"github.com/slipway/actions/internal/digest"
)

// copyBuffer is the size of each read while receiving: small enough that a
// hundred concurrent uploads stay in a few MiB.
const copyBuffer = 128 << 10

// Receive copies what r yields to w while hashing it, as a Store's Put
// does before it makes the content a blob: at most limit bytes (limit <= 0:
// no limit), else *TooLargeError; when want is not zero the content must
// have that digest, else *MismatchError. A cancelled ctx ends it with
// context.Cause. Read and write errors are returned as they are, for the
// store to name (a full disk, say).
func Receive(ctx context.Context, w io.Writer, r io.Reader, want digest.SHA256, limit int64) (digest.SHA256, int64, error) {
	sum := digest.New()
	src := digest.ContextReader(ctx, r)
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	n, err := io.CopyBuffer(io.MultiWriter(w, sum), src, make([]byte, copyBuffer))
	if err != nil {
		if ctx.Err() != nil {
			return digest.SHA256{}, n, fmt.Errorf("receiving a blob: %w", context.Cause(ctx))
		}
		return digest.SHA256{}, n, err
	}
	if limit > 0 && n > limit {
		return digest.SHA256{}, n, &TooLargeError{Limit: limit}
	}
	got := sum.Digest()
	if !want.IsZero() && got != want {
		return got, n, &MismatchError{Want: want, Got: got, Size: n}
	}
	return got, n, nil
}
