package receipt

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Errors Verify wraps, for callers that branch on what failed.
var (
	// ErrSignature: the checkpoint is not signed by the given log key.
	ErrSignature = errors.New("checkpoint not signed by the log key")
	// ErrInclusion: the entry is not in the tree the checkpoint commits to.
	ErrInclusion = errors.New("inclusion proof does not verify")
	// ErrEntry: no entry, or not the entry the receipt carries.
	ErrEntry = errors.New("entry does not match the receipt")
)

// Tree checks the receipt's checkpoint signature under the log key v (its
// origin must be the key's name) and returns the checkpoint it signs.
func (r *Receipt) Tree(v note.Verifier) (*log.Checkpoint, error) {
	cp, _, _, err := log.ParseCheckpoint(r.Checkpoint, v.Name(), v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: the receipt comes from another log, or the log key given (%q) is not the key of the log that issued it", ErrSignature, err, v.Name())
	}
	return cp, nil
}

// Verify checks that the receipt proves entry is in the log whose key is v:
// the checkpoint is signed by v, and the inclusion proof leads from the
// entry's RFC 6962 leaf hash at the receipt's index to the checkpoint's root.
// A nil entry means the entry the receipt carries; a non-nil entry must be
// the same bytes.
func Verify(r *Receipt, entry []byte, v note.Verifier) error {
	cp, err := r.Tree(v)
	if err != nil {
		return err
	}
	switch {
	case entry == nil && r.Entry == nil:
		return fmt.Errorf("%w: the receipt carries no entry and none was given: pass the logged entry", ErrEntry)
	case entry == nil:
		entry = r.Entry
	case r.Entry != nil && !bytes.Equal(entry, r.Entry):
		return fmt.Errorf("%w: the entry given differs from the entry the receipt carries: check that the receipt belongs to this entry", ErrEntry)
	}
	if r.Index >= cp.Size {
		return fmt.Errorf("%w: index %d is not in a tree of size %d: the receipt was altered; fetch it again from the log", ErrInclusion, r.Index, cp.Size)
	}
	hashes := make([][]byte, len(r.Hashes))
	for i := range r.Hashes {
		hashes[i] = r.Hashes[i][:]
	}
	leaf := rfc6962.DefaultHasher.HashLeaf(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, cp.Size, leaf, hashes, cp.Hash); err != nil {
		why := err.Error()
		var mismatch proof.RootMismatchError
		if errors.As(err, &mismatch) {
			why = fmt.Sprintf("it leads to root %x, the checkpoint's is %x", mismatch.CalculatedRoot, mismatch.ExpectedRoot)
		}
		return fmt.Errorf("%w: entry %d in tree of size %d of log %q: %s: the receipt or its entry was altered; fetch the receipt again from the log", ErrInclusion, r.Index, cp.Size, cp.Origin, why)
	}
	return nil
}
