package tlog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
)

// CheckEntries reads every entry bundle of the tree of the given size
// through read (a Log's, or tessera's client.HTTPFetcher of a server's
// /log/) and checks that the entries hash to root, the root a signed
// checkpoint of that size commits to: an fsck of the whole log as any
// tlog-tiles client sees it. It reads size/256 bundles, so it is for tests
// and audits, not for every request.
func CheckEntries(ctx context.Context, read client.EntryBundleFetcherFunc, size uint64, root []byte) error {
	r := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for i := uint64(0); i*layout.EntryBundleWidth < size; i++ {
		raw, err := read(ctx, i, layout.PartialTileSize(0, i, size))
		if err != nil {
			return fmt.Errorf("checking the log's entries: entry bundle %d: %w", i, err)
		}
		var b api.EntryBundle
		if err := b.UnmarshalText(raw); err != nil {
			return fmt.Errorf("checking the log's entries: entry bundle %d: %w", i, err)
		}
		for _, e := range b.Entries {
			if r.End() == size {
				break
			}
			if err := r.Append(rfc6962.DefaultHasher.HashLeaf(e), nil); err != nil {
				return err
			}
		}
	}
	got, err := r.GetRootHash(nil)
	if err != nil {
		return err
	}
	if r.End() != size || !bytes.Equal(got, root) {
		return fmt.Errorf("checking the log's entries: its %d entries hash to %x, but the checkpoint of size %d commits to %x: the log is damaged; restore it and its database from the same backup", r.End(), got, size, root)
	}
	return nil
}

// EntryBundles reads the log's entry bundles, for CheckEntries.
func (l *Log) EntryBundles() client.EntryBundleFetcherFunc { return l.reader.ReadEntryBundle }
