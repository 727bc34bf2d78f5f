package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/google/uuid"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
)

// DefaultMaxBlobSize bounds one uploaded blob unless Config.MaxBlobSize says
// otherwise: 8 GiB.
const DefaultMaxBlobSize = 8 << 30

// chunkBuffer is what one upload holds in memory while it receives: never
// a chunk, only this much of it at a time.
const chunkBuffer = 128 << 10

// writebackStep is how much of an upload is written between two requests
// to start writing it to disk (startWriteback).
const writebackStep = 8 << 20

var buffers = sync.Pool{New: func() any { b := make([]byte, chunkBuffer); return &b }}

// uploads are the blob uploads in progress: a file each in dir, named by
// the upload's UUID, and in memory the running hash of what it holds. A
// server that restarts finds the files again and hashes each once, on its
// next request.
type uploads struct {
	dir   string
	blobs blobstore.Store
	limit int64

	mu sync.Mutex
	m  map[string]*upload
}

// upload is one upload in progress. Its mutex serialises the requests on
// it: a resumed PATCH waits for a cut one to end.
type upload struct {
	mu   sync.Mutex
	id   string
	path string
	sum  hash.Hash // nil until the file is hashed (after a restart)
	size int64
	gone bool // completed or cancelled
}

// errUploadUnknown: no upload with that id (never started, completed,
// cancelled, or discarded after an error).
var errUploadUnknown = errors.New("upload unknown")

// tooLargeError is a blob over the size limit; the upload is discarded.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the blob is larger than this server's limit of %d bytes (%s): send a smaller artifact, or ask the operator to raise --max-blob-size", e.limit, humanBytes(e.limit))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func newUploads(dir string, blobs blobstore.Store, limit int64) *uploads {
	if limit <= 0 {
		limit = DefaultMaxBlobSize
	}
	return &uploads{dir: dir, blobs: blobs, limit: limit, m: map[string]*upload{}}
}

// start creates an upload.
func (us *uploads) start() (*upload, error) {
	if err := os.MkdirAll(us.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the upload directory %q: %w", us.dir, err)
	}
	id := uuid.NewString()
	path := filepath.Join(us.dir, id)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating upload %q: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("creating upload %q: %w", id, err)
	}
	u := &upload{id: id, path: path, sum: sha256.New()}
	us.mu.Lock()
	us.m[id] = u
	us.mu.Unlock()
	return u, nil
}

// lock returns the upload with this id, locked; the caller unlocks it. An
// upload a previous run of the server started is found by its file.
func (us *uploads) lock(id string) (*upload, error) {
	if p, err := uuid.Parse(id); err != nil || p.String() != id {
		return nil, errUploadUnknown
	}
	us.mu.Lock()
	u, ok := us.m[id]
	if !ok {
		path := filepath.Join(us.dir, id)
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			us.mu.Unlock()
			return nil, errUploadUnknown
		}
		u = &upload{id: id, path: path, size: fi.Size()}
		us.m[id] = u
	}
	us.mu.Unlock()
	u.mu.Lock()
	if u.gone {
		u.mu.Unlock()
		return nil, errUploadUnknown
	}
	return u, nil
}

// drop forgets u (locked) and removes its file.
func (us *uploads) drop(u *upload) {
	u.gone = true
	us.mu.Lock()
	delete(us.m, u.id)
	us.mu.Unlock()
	os.Remove(u.path)
}

// hashed makes sure u's running hash covers its file: after a restart the
// file is hashed once, here.
func (u *upload) hashed(ctx context.Context) error {
	if u.sum != nil {
		return nil
	}
	f, err := os.Open(u.path)
	if err != nil {
		return fmt.Errorf("reopening upload %q: %w", u.id, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, digest.ContextReader(ctx, f))
	if err != nil {
		return fmt.Errorf("hashing upload %q again after a restart: %w", u.id, err)
	}
	u.sum, u.size = h, n
	return nil
}

// receive appends what body yields to u (locked, hashed), at most limit
// bytes in all; want >= 0 is the chunk's announced length. It keeps the
// file and the hash in step: a buffer counts once it is written, and a
// failed write is cut off the file again. A body cut short leaves what
// arrived in the upload (the client resumes from the Range it reads).
// Hashing runs beside receiving and writing (hashPipe), on the buffers
// already written, and has caught up with every one of them when receive
// returns: on two cores an upload is as fast as the slower of the two,
// not their sum.
func (us *uploads) receive(ctx context.Context, u *upload, body io.Reader, want int64) error {
	f, err := os.OpenFile(u.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening upload %q: %w", u.id, err)
	}
	defer f.Close()
	if _, err := f.Seek(u.size, io.SeekStart); err != nil {
		return fmt.Errorf("seeking in upload %q: %w", u.id, err)
	}
	hp := startHashing(u.sum)
	defer hp.wait()
	var got int64
	flushed := u.size // writeback started up to here
	for {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		buf := hp.buffer()
		// A full buffer per write and per hash (a socket read yields a few
		// packets): fewer syscalls. What a cut body delivered is kept.
		n, rerr := io.ReadFull(body, buf)
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
		}
		if n > 0 {
			if u.size+int64(n) > us.limit {
				hp.unused(buf)
				return &tooLargeError{limit: us.limit}
			}
			if want >= 0 && got+int64(n) > want {
				hp.unused(buf)
				return &chunkLengthError{want: want, more: true}
			}
			if _, err := f.Write(buf[:n]); err != nil {
				hp.unused(buf)
				f.Truncate(u.size)
				return writeFailure(u.id, err)
			}
			hp.hash(buf[:n])
			u.size += int64(n)
			got += int64(n)
			if u.size-flushed >= writebackStep {
				startWriteback(f, flushed, u.size-flushed)
				flushed = u.size
			}
		} else {
			hp.unused(buf)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("receiving upload %q: %w", u.id, rerr)
		}
	}
	if want >= 0 && got != want {
		return &chunkLengthError{want: want, got: got}
	}
	return nil
}

// hashBuffers is how many buffers of chunkBuffer bytes one upload cycles
// through: one being received and written while the others wait for the
// hash or are hashed.
const hashBuffers = 4

// hashPipe hashes written buffers in its own goroutine, in the order they
// were written, and hands them back for the next read.
type hashPipe struct {
	sum  hash.Hash
	todo chan []byte // written, to hash
	free chan []byte // hashed or unused, to fill
	done chan struct{}
	bufs []*[]byte // taken from buffers, given back by wait
}

func startHashing(sum hash.Hash) *hashPipe {
	p := &hashPipe{sum: sum, todo: make(chan []byte, hashBuffers), free: make(chan []byte, hashBuffers), done: make(chan struct{})}
	for range hashBuffers {
		bp := buffers.Get().(*[]byte)
		p.bufs = append(p.bufs, bp)
		p.free <- *bp
	}
	go func() {
		defer close(p.done)
		for b := range p.todo {
			p.sum.Write(b)
			p.free <- b[:cap(b)]
		}
	}()
	return p
}

// buffer returns an empty buffer, waiting for the hash to free one.
func (p *hashPipe) buffer() []byte { return <-p.free }

// hash queues b, written to the file, for the hash.
func (p *hashPipe) hash(b []byte) { p.todo <- b }

// unused gives back a buffer that was not written.
func (p *hashPipe) unused(b []byte) { p.free <- b[:cap(b)] }

// wait returns once every queued buffer is hashed, and gives the buffers
// back to the pool.
func (p *hashPipe) wait() {
	close(p.todo)
	<-p.done
	for _, bp := range p.bufs {
		buffers.Put(bp)
	}
}

// chunkLengthError: the body was not as long as its Content-Range said.
type chunkLengthError struct {
	want, got int64
	more      bool
}

func (e *chunkLengthError) Error() string {
	if e.more {
		return fmt.Sprintf("the chunk is longer than the %d bytes its Content-Range announces: send Content-Range FIRST-LAST of the bytes you send", e.want)
	}
	return fmt.Sprintf("the chunk has %d bytes, not the %d its Content-Range announces: send Content-Range FIRST-LAST of the bytes you send, then resume from the Range this answer gives", e.got, e.want)
}

// errNoSpace marks a write that failed for lack of space (507).
var errNoSpace = errors.New("no space left for uploads")

func writeFailure(id string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("writing upload %q: %w (%v): the server's disk is full; retry later or tell its operator", id, errNoSpace, err)
	}
	return fmt.Errorf("writing upload %q: %w", id, err)
}

// finish checks u's content against want and stores it as a blob; the
// upload is gone afterwards, stored or not.
func (us *uploads) finish(ctx context.Context, u *upload, want digest.SHA256) (blobstore.Blob, error) {
	defer us.drop(u)
	got := digest.SHA256(u.sum.Sum(nil))
	if got != want {
		return blobstore.Blob{}, &blobstore.MismatchError{Want: want, Got: got, Size: u.size}
	}
	if a, ok := us.blobs.(blobstore.Adopter); ok {
		return a.Adopt(ctx, u.path, want, u.size)
	}
	f, err := os.Open(u.path)
	if err != nil {
		return blobstore.Blob{}, fmt.Errorf("reopening upload %q: %w", u.id, err)
	}
	defer f.Close()
	return us.blobs.Put(ctx, f, want, us.limit)
}
