package tlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// ErrNotLogged is Entry's error for an index the latest checkpoint does
// not cover.
var ErrNotLogged = errors.New("no such entry")

// Entry reads the entry at index from the log's own entry bundles and
// returns it as a receipt against the latest checkpoint: the entry's bytes
// as logged, its inclusion proof and the signed checkpoint, checked before
// it is returned. Its error wraps ErrNotLogged for an index at or past the
// checkpoint's size.
func (l *Log) Entry(ctx context.Context, index uint64) (*receipt.Receipt, error) {
	cp, cpRaw, err := l.latest(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case cp.Size == 0:
		return nil, fmt.Errorf("entry %d of log %q: %w: the log is empty", index, l.origin, ErrNotLogged)
	case index >= cp.Size:
		return nil, fmt.Errorf("entry %d of log %q: %w: the latest checkpoint covers entries 0 to %d", index, l.origin, ErrNotLogged, cp.Size-1)
	}
	b, err := client.GetEntryBundle(ctx, l.reader.ReadEntryBundle, index/layout.EntryBundleWidth, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("reading entry %d of log %q: %w", index, l.origin, err)
	}
	at := index % layout.EntryBundleWidth
	if at >= uint64(len(b.Entries)) {
		return nil, fmt.Errorf("reading entry %d of log %q: its bundle holds %d entries: the log directory is damaged; run tessera's fsck on it", index, l.origin, len(b.Entries))
	}
	return l.receipt(ctx, index, b.Entries[at], cpRaw)
}
