package receipt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/proof"
	"golang.org/x/mod/sumdb/note"
)

// MaxSize is the largest receipt Parse reads: an entry of up to 32 KiB in
// base64, 64 proof hashes and a checkpoint with a few cosignatures.
const MaxSize = 128 << 10

// Ext is the file name extension of receipts in an artifact manifest.
const Ext = ".receipt"

// Receipt is a C2SP tlog-proof: an entry's index, its inclusion proof, the
// signed checkpoint the proof leads to, and the entry itself.
type Receipt struct {
	// Index is the entry's zero-based position in the log.
	Index uint64
	// Hashes is the RFC 6962 inclusion proof, the leaf's sibling first.
	Hashes [][sha256.Size]byte
	// Checkpoint is the log's signed note (c2sp.org/tlog-checkpoint).
	Checkpoint []byte
	// Entry is the logged entry's bytes (the proof's extra data).
	Entry []byte
}

// Marshal returns the receipt's tlog-proof text.
func (r *Receipt) Marshal() []byte {
	return proof.TLogProof{
		Index: r.Index, Hashes: r.Hashes, Checkpoint: r.Checkpoint, ExtraData: r.Entry,
	}.Marshal()
}

// Parse reads a receipt. It accepts exactly the text Marshal writes: any
// other spelling (leading zeroes, CR LF, a missing final newline) is refused.
func Parse(data []byte) (*Receipt, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("receipt is %d bytes, over the limit of %d: this is not a Slipway log receipt", len(data), MaxSize)
	}
	var p proof.TLogProof
	if err := p.Unmarshal(data); err != nil {
		return nil, fmt.Errorf("reading receipt: %w: a receipt is a c2sp.org/tlog-proof@v1 document as the log returned it", err)
	}
	if len(p.ExtraData) == 0 {
		p.ExtraData = nil
	}
	r := &Receipt{Index: p.Index, Hashes: p.Hashes, Checkpoint: p.Checkpoint, Entry: p.ExtraData}
	if !bytes.Equal(r.Marshal(), data) {
		return nil, errors.New("reading receipt: it is not in the form the log writes (c2sp.org/tlog-proof@v1, LF line ends, no leading zeroes, ending in a newline): use the receipt file exactly as the log returned it")
	}
	if len(r.Checkpoint) == 0 {
		return nil, errors.New("reading receipt: it has no checkpoint after the proof: use the receipt file exactly as the log returned it")
	}
	if len(r.Hashes) > 64 {
		return nil, fmt.Errorf("reading receipt: its inclusion proof has %d hashes; a log of at most 2^64 entries needs at most 64", len(r.Hashes))
	}
	return r, nil
}

// NewVerifier reads a log's note verifier key ("origin+hash+base64", as
// GET /api/v1/log/key returns it; surrounding whitespace is ignored).
func NewVerifier(key string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return nil, fmt.Errorf("reading log verifier key: %w: use the key the log serves at /api/v1/log/key (a line like \"origin+1234abcd+AQ...\")", err)
	}
	return v, nil
}
