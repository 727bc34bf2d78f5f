package tlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// dedupEntries is how many recent entries Append remembers by their hash
// (tessera's in-memory antispam): the same bytes appended again while the
// first append is in flight, or soon after, get the first one's index
// instead of a second entry. It is small on purpose: what it must cover is
// a request that failed after its append and is sent again, not the log's
// history (Find covers that).
const dedupEntries = 1024

// Size is a lower bound of the index the next entry gets: the size of the
// latest checkpoint this Log saw when it opened, raised past every index
// its appends were given. An entry appended after Size was read is at
// Size or later (indices only grow, whichever replica appends): it is
// where Find starts to look for it.
func (l *Log) Size() uint64 { return l.next.Load() }

// seen raises Size past index.
func (l *Log) seen(index uint64) {
	for {
		n := l.next.Load()
		if index < n || l.next.CompareAndSwap(n, index+1) {
			return
		}
	}
}

// Find looks for entry, the exact bytes, at index from and after in the
// latest checkpoint, and returns its receipt (the first match): what a
// server that appended it and stopped before recording it needs to finish
// the record without a second entry. Its error wraps ErrNotLogged when the
// checkpoint holds no such entry at or after from. It reads one entry
// bundle (256 entries) at a time: pass the Size read before the append.
func (l *Log) Find(ctx context.Context, from uint64, entry []byte) (*receipt.Receipt, error) {
	cp, cpRaw, err := l.latest(ctx)
	if err != nil {
		return nil, err
	}
	for b := from / layout.EntryBundleWidth; b*layout.EntryBundleWidth < cp.Size; b++ {
		bundle, err := client.GetEntryBundle(ctx, l.reader.ReadEntryBundle, b, cp.Size)
		if err != nil {
			return nil, fmt.Errorf("reading entries from %d of log %q: %w", b*layout.EntryBundleWidth, l.origin, err)
		}
		for i, e := range bundle.Entries {
			index := b*layout.EntryBundleWidth + uint64(i)
			if index >= from && bytes.Equal(e, entry) {
				return l.receipt(ctx, index, entry, cpRaw)
			}
		}
	}
	return nil, fmt.Errorf("looking for an entry in log %q from index %d to %d: %w", l.origin, from, cp.Size, ErrNotLogged)
}

// Settle waits until the log has published a checkpoint of every entry
// it holds: tessera publishes the integrated tree within a checkpoint
// interval of Open, so an entry sequenced by a process that stopped before
// publishing is covered by then. Call it before Find at start.
func (l *Log) Settle(ctx context.Context) error {
	wait := time.Until(l.opened.Add(2*l.interval + awaitPoll))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Published returns the size of the latest published checkpoint, its
// signature checked.
func (l *Log) Published(ctx context.Context) (uint64, error) {
	cp, _, err := l.latest(ctx)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // nothing published yet
	}
	if err != nil {
		return 0, err
	}
	return cp.Size, nil
}

// latest reads the latest published checkpoint, checks its signature and
// returns it parsed and as published.
func (l *Log) latest(ctx context.Context) (*log.Checkpoint, []byte, error) {
	raw, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading checkpoint of log %q: %w", l.origin, err)
	}
	cp, _, _, err := log.ParseCheckpoint(raw, l.origin, l.verifier)
	if err != nil {
		return nil, nil, fmt.Errorf("reading checkpoint of log %q: %w: the checkpoint file is not signed by this log's key; restore the log directory and its key together", l.origin, err)
	}
	return cp, raw, nil
}
