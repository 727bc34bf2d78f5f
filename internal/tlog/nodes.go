package tlog

import (
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
)

// nodes builds inclusion proofs for one tree size from the log's tiles, as
// tessera's client.ProofBuilder does, but remembers every node it computes:
// the appends one checkpoint releases together share most of their proof
// nodes, and a node inside a tile costs up to 255 hashes to compute.
// It is not safe for concurrent use (proofCache holds a lock).
type nodes struct {
	size  uint64
	read  client.TileFetcherFunc
	tiles map[[2]uint64]api.HashTile
	memo  map[compact.NodeID][]byte
}

func newNodes(size uint64, read client.TileFetcherFunc) *nodes {
	return &nodes{size: size, read: read, tiles: map[[2]uint64]api.HashTile{}, memo: map[compact.NodeID][]byte{}}
}

// inclusion returns the RFC 6962 inclusion proof of index in the tree.
func (n *nodes) inclusion(ctx context.Context, index uint64) ([][]byte, error) {
	ids, err := proof.Inclusion(index, n.size)
	if err != nil {
		return nil, err
	}
	hashes := make([][]byte, len(ids.IDs))
	for i, id := range ids.IDs {
		if hashes[i], err = n.node(ctx, id); err != nil {
			return nil, err
		}
	}
	return ids.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
}

// node returns the hash of a complete subtree of the tree.
func (n *nodes) node(ctx context.Context, id compact.NodeID) ([]byte, error) {
	if h, ok := n.memo[id]; ok {
		return h, nil
	}
	tileLevel, tileIndex, nodeLevel, nodeIndex := layout.NodeCoordsToTileAddress(uint64(id.Level), id.Index)
	key := [2]uint64{tileLevel, tileIndex}
	tile, ok := n.tiles[key]
	if !ok {
		raw, err := n.read(ctx, tileLevel, tileIndex, layout.PartialTileSize(tileLevel, tileIndex, n.size))
		if err != nil {
			return nil, fmt.Errorf("reading tile %d/%d: %w", tileLevel, tileIndex, err)
		}
		if err := tile.UnmarshalText(raw); err != nil {
			return nil, fmt.Errorf("reading tile %d/%d: %w", tileLevel, tileIndex, err)
		}
		n.tiles[key] = tile
	}
	width := uint64(1) << nodeLevel
	first, last := nodeIndex*width, (nodeIndex+1)*width
	if last > uint64(len(tile.Nodes)) {
		return nil, fmt.Errorf("tile %d/%d has %d hashes; node %d/%d needs %d", tileLevel, tileIndex, len(tile.Nodes), id.Level, id.Index, last)
	}
	r := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for _, h := range tile.Nodes[first:last] {
		if err := r.Append(h, nil); err != nil {
			return nil, err
		}
	}
	h, err := r.GetRootHash(nil)
	if err != nil {
		return nil, err
	}
	n.memo[id] = h
	return h, nil
}
