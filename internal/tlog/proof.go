package tlog

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// proofCache keeps one proof builder (and its fetched tiles) for the latest
// checkpoint, shared by the appends that checkpoint releases together.
type proofCache struct {
	reader tessera.LogReader

	mu    sync.Mutex
	raw   string
	cp    *log.Checkpoint
	nodes *nodes
}

func (c *proofCache) inclusion(ctx context.Context, l *Log, cpRaw []byte, index uint64) (*log.Checkpoint, [][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != string(cpRaw) {
		cp, _, _, err := log.ParseCheckpoint(cpRaw, l.origin, l.verifier)
		if err != nil {
			return nil, nil, fmt.Errorf("reading checkpoint of log %q: %w: the checkpoint file is not signed by this log's key; restore the log directory and its key together", l.origin, err)
		}
		c.raw, c.cp, c.nodes = string(cpRaw), cp, newNodes(cp.Size, c.reader.ReadTile)
	}
	if index >= c.cp.Size {
		return nil, nil, fmt.Errorf("entry %d is not in log %q of size %d: it was never logged here", index, l.origin, c.cp.Size)
	}
	hashes, err := c.nodes.inclusion(ctx, index)
	if err != nil {
		c.raw = "" // a failed tile read must not stick
		return nil, nil, err
	}
	return c.cp, hashes, nil
}

func (l *Log) receipt(ctx context.Context, index uint64, entry, cpRaw []byte) (*receipt.Receipt, error) {
	cp, hashes, err := l.proofs.inclusion(ctx, l, cpRaw, index)
	if err != nil {
		return nil, fmt.Errorf("proving entry %d of log %q: %w", index, l.origin, err)
	}
	r := &receipt.Receipt{Index: index, Checkpoint: cpRaw, Entry: entry}
	r.Hashes = make([][sha256.Size]byte, len(hashes))
	for i, h := range hashes {
		if len(h) != sha256.Size {
			return nil, fmt.Errorf("proving entry %d of log %q: a proof hash has %d bytes", index, l.origin, len(h))
		}
		r.Hashes[i] = [sha256.Size]byte(h)
	}
	// The checkpoint's signature was checked once, in l.proofs; check the
	// proof against its root before handing the receipt out.
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, cp.Size, rfc6962.DefaultHasher.HashLeaf(entry), hashes, cp.Hash); err != nil {
		return nil, fmt.Errorf("proving entry %d of log %q: the receipt does not verify: %w: the log directory is damaged; run tessera's fsck on it", index, l.origin, err)
	}
	return r, nil
}

// Checkpoint returns the latest published signed checkpoint.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint of log %q: %w", l.origin, err)
	}
	return cp, nil
}

// ConsistencyProof proves that the tree of size to extends the tree of size
// from (RFC 6962 section 2.1.2), for from <= to <= the latest checkpoint's
// size; verify it with transparency-dev/merkle's proof.VerifyConsistency.
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error) {
	raw, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	cp, _, _, err := log.ParseCheckpoint(raw, l.origin, l.verifier)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint of log %q: %w", l.origin, err)
	}
	if from > to || to > cp.Size {
		return nil, fmt.Errorf("consistency proof from size %d to %d: want 0 <= from <= to <= %d, the latest checkpoint's size", from, to, cp.Size)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, l.reader.ReadTile)
	if err != nil {
		return nil, err
	}
	p, err := pb.ConsistencyProof(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("consistency proof from size %d to %d of log %q: %w", from, to, l.origin, err)
	}
	return p, nil
}
