package execverified

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/untar"
)

// unpacker unpacks a tar.gz into a fresh directory while the checks read
// it: it is the checks' tee, so the artifact is read once, into the hash
// (and the signature checks) and into the unpacking at the same time.
// Nothing runs before the checks passed; on a refusal the caller removes
// the directory.
type unpacker struct {
	pw   *io.PipeWriter
	done chan error
}

// startUnpack starts unpacking what is written to the unpacker into dir.
func startUnpack(ctx context.Context, dir string, lim untar.Options) *unpacker {
	pr, pw := io.Pipe()
	u := &unpacker{pw: pw, done: make(chan error, 1)}
	go func() {
		err := extractTarGz(ctx, bufio.NewReaderSize(pr, 1<<20), dir, lim)
		// Whatever the archive held after its end, or after a refused
		// entry, is read too: the checks must see every byte.
		_, _ = io.Copy(io.Discard, pr)
		u.done <- err
	}()
	return u
}

func (u *unpacker) Write(p []byte) (int, error) { return u.pw.Write(p) }

// finish ends the input and waits for the unpacking to end: only then may
// the directory be used or removed.
func (u *unpacker) finish() error {
	u.pw.Close()
	return <-u.done
}

// errNotGzip is a stream that is not gzip at all.
type errNotGzip struct{ err error }

func (e errNotGzip) Error() string { return e.err.Error() }

func extractTarGz(ctx context.Context, r io.Reader, dir string, lim untar.Options) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return errNotGzip{err}
	}
	if _, err := untar.Extract(ctx, zr, dir, lim); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, zr) // the gzip trailer's checksum
	return err
}

// unpackRefusal is the refusal for an archive that could not be unpacked.
func (o *Options) unpackRefusal(err error) error {
	if nz, ok := err.(errNotGzip); ok {
		return refuse(exitcode.NotVerified, CheckUnpack, "%q is not a gzip-compressed tar (%v); --unpack takes a tar.gz, --in-place or --copy any other file", o.File, nz.err)
	}
	return refuse(exitcode.NotVerified, CheckUnpack, "unpacking %q into %q: %v; nothing ran", o.File, o.Unpack, err)
}

// removeDir removes a fresh directory after a refusal: nothing of an
// unverified artifact stays.
func removeDir(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(os.Stderr, "slipway exec-verified: removing %q: %v\n", dir, err)
	}
}
