package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding"
	"errors"
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
	// sharesSHA256: the signature hashes the subject's bytes as its SHA-256
	// digest does (func sharesSHA256), so the check takes that hash's state
	// after the read instead of hashing the bytes a second time.
	sharesSHA256 bool
}

// sharesSHA256 reports whether an OpenPGP detached signature hashes the
// subject's bytes exactly as its SHA-256 digest does: one v4 signature
// packet (no salt), of a binary document (no line-ending canonicalization),
// with SHA-256. raw holds the binary packets.
func sharesSHA256(raw []byte) bool {
	r := packet.NewReader(bytes.NewReader(raw))
	p, err := r.Next()
	if err != nil {
		return false
	}
	sig, ok := p.(*packet.Signature)
	if !ok || sig.Version != 4 || sig.SigType != packet.SigTypeBinary || sig.Hash != crypto.SHA256 {
		return false
	}
	_, err = r.Next()
	return err == io.EOF
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

// readSubject reads the file s.Path (or s.Reader) once, also into s.Tee, computing the digests in hashes
// (which must include SHA-256) and verifying the OpenPGP signatures in gpg
// as the bytes go by. Hashing and signature checks run in parallel, one
// goroutine each, on the same buffers; memory is a few buffers, whatever the
// file's size. A signature that shares the SHA-256 (gpgCheck.sharesSHA256)
// gets that hash's state once the read is done, so the bytes are hashed once.
func readSubject(ctx context.Context, s Subject, hashes []crypto.Hash, gpg []gpgCheck) (*readResult, error) {
	path := s.Path
	var src io.Reader = s.Reader
	if src == nil {
		f, err := openFile(s, path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		src = f
	}
	res := &readResult{sums: map[crypto.Hash][]byte{}, gpg: make([]gpgResult, len(gpg))}
	var writers []io.Writer
	hs := make([]hash.Hash, len(hashes))
	var sha hash.Hash
	for i, h := range hashes {
		hs[i] = h.New()
		writers = append(writers, hs[i])
		if h == crypto.SHA256 {
			sha = hs[i]
		}
	}
	if sha == nil {
		return nil, fmt.Errorf("reading %q: no SHA-256 among the digests to compute", path)
	}
	state := &sha256State{ready: make(chan struct{})}
	var wg sync.WaitGroup
	pipes := make([]*io.PipeWriter, len(gpg))
	for i, g := range gpg {
		var signed io.Reader = state
		if !g.sharesSHA256 {
			pr, pw := io.Pipe()
			pipes[i] = pw
			writers = append(writers, pw)
			signed = pr
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sig, signer, err := openpgp.VerifyDetachedSignatureAndHash(g.keyring, signed, bytes.NewReader(g.sig), gpgHashes, g.cfg)
			if pr, ok := signed.(*io.PipeReader); ok {
				// Drain what the check did not read, so the writer never blocks.
				_, _ = io.Copy(io.Discard, pr)
			}
			res.gpg[i] = gpgResult{sig: sig, signer: signer, err: err}
		}()
	}
	if s.Tee != nil {
		writers = append(writers, s.Tee)
	}
	var dst io.Writer
	var fan *digest.Fanout
	if len(writers) == 1 {
		dst = writers[0]
	} else {
		fan = digest.NewFanout(writers...)
		dst = fan
	}
	n, copyErr := io.CopyBuffer(dst, &ctxReader{ctx: ctx, r: src}, make([]byte, readBufferSize(src)))
	if fan != nil {
		fan.Close()
	}
	for _, pw := range pipes {
		if pw == nil {
			continue
		}
		if copyErr != nil {
			pw.CloseWithError(copyErr)
		} else {
			pw.Close()
		}
	}
	state.set(sha, n, copyErr)
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

// readBufferSize is digest.BufferSize, or less for a smaller file: a
// server verifying many small releases at once would otherwise allocate
// (and clear) a mebibyte per subject for a few kilobytes.
func readBufferSize(r io.Reader) int {
	f, ok := r.(*os.File)
	if !ok {
		return digest.BufferSize
	}
	if fi, err := f.Stat(); err == nil && fi.Size() < digest.BufferSize {
		return int(max(fi.Size()+1, 512))
	}
	return digest.BufferSize
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

// sha256State stands in for the subject's bytes for an OpenPGP check that
// shares the subject's SHA-256: the verifier copies the "signed" reader into
// its hash with io.Copy, which calls WriteTo, and WriteTo sets that hash's
// state to the subject's SHA-256 state once the read is done. The verifier
// then adds the signature's trailer and checks the signature as always.
// Should the verifier ever read instead, or hand over anything but an empty
// SHA-256, the check fails: it never passes without the subject's bytes.
type sha256State struct {
	ready chan struct{}
	state []byte // the marshaled SHA-256 state after the whole subject
	n     int64
	err   error
}

// set publishes the state of sha after n bytes, or the read's error.
func (s *sha256State) set(sha hash.Hash, n int64, readErr error) {
	s.n, s.err = n, readErr
	if readErr == nil {
		if m, ok := sha.(encoding.BinaryMarshaler); !ok {
			s.err = errors.New("the SHA-256 state cannot be saved")
		} else {
			s.state, s.err = m.MarshalBinary()
		}
	}
	close(s.ready)
}

func (s *sha256State) WriteTo(w io.Writer) (int64, error) {
	<-s.ready
	if s.err != nil {
		return 0, s.err
	}
	h, ok := w.(hash.Hash)
	if !ok || h.Size() != sha256.Size || h.BlockSize() != sha256.BlockSize {
		return 0, fmt.Errorf("the OpenPGP verifier hashes into a %T, not a SHA-256", w)
	}
	m, mok := w.(encoding.BinaryMarshaler)
	u, uok := w.(encoding.BinaryUnmarshaler)
	if !mok || !uok {
		return 0, fmt.Errorf("the OpenPGP verifier's %T cannot take a SHA-256 state", w)
	}
	cur, err := m.MarshalBinary()
	if err != nil {
		return 0, err
	}
	empty, err := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(cur, empty) {
		return 0, errors.New("the OpenPGP verifier's hash is not empty; it cannot take the subject's SHA-256 state")
	}
	if err := u.UnmarshalBinary(s.state); err != nil {
		return 0, err
	}
	return s.n, nil
}

func (s *sha256State) Read([]byte) (int, error) {
	return 0, errors.New("the subject's bytes were hashed once already; the OpenPGP verifier must take the SHA-256 state (io.WriterTo)")
}
