package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/slipway/actions/internal/digest"
)

// Store keeps blobs by their SHA-256 digest. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores what r yields, at most limit bytes (limit <= 0: no
	// limit). When want is not zero the content must have that digest. Its
	// errors include *TooLargeError and *MismatchError; nothing is stored
	// on error. Storing content already present succeeds (Blob.Existed).
	Put(ctx context.Context, r io.Reader, want digest.SHA256, limit int64) (Blob, error)
	// Open returns the blob for reading (and seeking, for Range requests);
	// ErrNotFound when there is none. The caller closes it.
	Open(ctx context.Context, d digest.SHA256) (Reader, error)
	// Stat returns the blob's size; ErrNotFound when there is none.
	Stat(ctx context.Context, d digest.SHA256) (Blob, error)
}

// Blob describes a stored blob.
type Blob struct {
	Digest digest.SHA256
	Size   int64
	// Existed is true when Put found the content already stored.
	Existed bool
}

// Reader reads one blob.
type Reader interface {
	io.ReadSeekCloser
	// Size is the blob's length in bytes.
	Size() int64
}

// ErrNotFound is the error of Open and Stat for a digest not stored.
var ErrNotFound = errors.New("blob not found")

// TooLargeError is the error of Put when the content exceeds its limit
// (HTTP 413).
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("blob is larger than the limit of %d bytes; send a smaller artifact or raise the server's limit", e.Limit)
}

// MismatchError is the error of Put when the content's digest is not the
// one announced.
type MismatchError struct {
	Want, Got digest.SHA256
	Size      int64
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("blob content has digest %q (%d bytes), not the announced %q; send the file the digest was computed from", e.Got, e.Size, e.Want)
}
