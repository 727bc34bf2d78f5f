package verify

import (
	"bytes"
	"context"
	"crypto"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/slipway/actions/internal/digest"
)

// gpgCheck is an OpenPGP detached signature to verify during the read.
type gpgCheck struct {
	sig     []byte // binary signature packets
	keyring openpgp.EntityList
	cfg     *packet.Config // its clock decides key and signature expiry
}

// gpgResult is what verifying one OpenPGP signature gave.
type gpgResult struct {
	sig    *packet.Signature
	signer *openpgp.Entity
	err    error
}

// readResult is what the one read of a subject gave.
type readResult struct {
	size int64
	sums map[crypto.Hash][]byte
	gpg  []gpgResult
}

// gpgHashes are the hash algorithms accepted in OpenPGP signatures.
var gpgHashes = []crypto.Hash{crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512}

// readSubject reads the file at path once, computing the digests in hashes
// and verifying the OpenPGP signatures in gpg as the bytes go by. Hashing
// and signature checks run in parallel, one goroutine each, on the same
// buffers; memory is a few buffers, whatever the file's size.
func readSubject(ctx context.Context, path string, hashes []crypto.Hash, gpg []gpgCheck) (*readResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &readResult{sums: map[crypto.Hash][]byte{}, gpg: make([]gpgResult, len(gpg))}
	var writers []io.Writer
	hs := make([]hash.Hash, len(hashes))
	for i, h := range hashes {
		hs[i] = h.New()
		writers = append(writers, hs[i])
	}
	var wg sync.WaitGroup
	pipes := make([]*io.PipeWriter, len(gpg))
	for i, g := range gpg {
		pr, pw := io.Pipe()
		pipes[i] = pw
		writers = append(writers, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sig, signer, err := openpgp.VerifyDetachedSignatureAndHash(g.keyring, pr, bytes.NewReader(g.sig), gpgHashes, g.cfg)
			// Drain what the check did not read, so the writer never blocks.
			_, _ = io.Copy(io.Discard, pr)
			res.gpg[i] = gpgResult{sig: sig, signer: signer, err: err}
		}()
	}
	var dst io.Writer
	var fan *fanout
	if len(writers) == 1 {
		dst = writers[0]
	} else {
		fan = newFanout(writers)
		dst = fan
	}
	n, copyErr := io.CopyBuffer(dst, &ctxReader{ctx: ctx, r: f}, make([]byte, digest.BufferSize))
	if fan != nil {
		fan.close()
	}
	for _, pw := range pipes {
		if copyErr != nil {
			pw.CloseWithError(copyErr)
		} else {
			pw.Close()
		}
	}
	wg.Wait()
	if copyErr != nil {
		return nil, fmt.Errorf("reading %q: %w", path, copyErr)
	}
	res.size = n
	for i, h := range hashes {
		res.sums[h] = hs[i].Sum(nil)
	}
	return res, nil
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// fanout writes each buffer to every writer at once, one goroutine per
// writer, and returns when all are done with it.
type fanout struct {
	jobs []chan []byte
	done chan error
}

func newFanout(ws []io.Writer) *fanout {
	f := &fanout{done: make(chan error, len(ws))}
	for _, w := range ws {
		jobs := make(chan []byte)
		f.jobs = append(f.jobs, jobs)
		go func() {
			for p := range jobs {
				_, err := w.Write(p)
				f.done <- err
			}
		}()
	}
	return f
}

func (f *fanout) Write(p []byte) (int, error) {
	for _, j := range f.jobs {
		j <- p
	}
	var first error
	for range f.jobs {
		if err := <-f.done; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return 0, first
	}
	return len(p), nil
}

func (f *fanout) close() {
	for _, j := range f.jobs {
		close(j)
	}
}
