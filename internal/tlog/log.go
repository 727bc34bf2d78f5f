package tlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/slipway/actions/internal/tlog/receipt"
)

// Defaults of Options, tuned for many small admissions a second on a small
// machine: a checkpoint at most every 100 ms (tessera's POSIX minimum) and
// batches of up to 512 entries or 20 ms.
const (
	DefaultCheckpointInterval = 100 * time.Millisecond
	DefaultBatchMaxSize       = 512
	DefaultBatchMaxAge        = 20 * time.Millisecond
	awaitPoll                 = 10 * time.Millisecond
)

// Options configure Open. The zero value works: a key in DIR.key, the
// defaults above.
type Options struct {
	// Origin names the log (its checkpoints' first line and its key's name);
	// see the package documentation for the default.
	Origin string
	// KeyFile is the checkpoint signing key, created when missing; default
	// the log directory's path plus ".key" (DATA/log/ -> DATA/log.key).
	KeyFile string
	// CheckpointInterval is how often a new checkpoint may be published.
	CheckpointInterval time.Duration
	// BatchMaxSize and BatchMaxAge bound a batch of entries sequenced at once.
	BatchMaxSize uint
	BatchMaxAge  time.Duration
	// Logger receives what the log does (never a key); default discards.
	Logger *slog.Logger
	// AWS, when set, keeps the log in a bucket and a database instead of a
	// directory: Open(ctx, dir, opts) is then OpenAWS(ctx, *opts.AWS, opts)
	// and dir is not used.
	AWS *AWS
}

// Log is an open transparency log. Its methods are safe for concurrent use.
type Log struct {
	dir      string       // the POSIX driver's directory; "" on AWS
	where    string       // the storage, for logs and errors: the directory, or s3://BUCKET
	handler  http.Handler // serves the public files
	origin   string
	vkey     string
	verifier note.Verifier
	log      *slog.Logger

	appender *tessera.Appender
	shutdown func(context.Context) error
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	cancel   context.CancelFunc

	mu       sync.RWMutex // guards closed; held for reading while an append is handed to tessera
	closed   bool
	inflight sync.WaitGroup

	proofs proofCache

	next     atomic.Uint64 // Size
	opened   time.Time     // when start ran, for Settle
	interval time.Duration // the checkpoint interval

	// afterAdd, when set (by tests), runs once an entry is handed to tessera.
	afterAdd func()
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("log is closed")

// Open opens (creating on first start) the log in dir, on tessera's POSIX
// driver, or the log in a bucket when opts.AWS is set.
func Open(ctx context.Context, dir string, opts Options) (*Log, error) {
	if opts.AWS != nil {
		return OpenAWS(ctx, *opts.AWS, opts)
	}
	opts = opts.withDefaults(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("opening log: %w: check that the data directory is writable", err)
	}
	signer, vkey, err := loadOrCreateKey(opts.KeyFile, opts.Origin)
	if err != nil {
		return nil, err
	}
	driver, err := posix.New(ctx, posix.Config{Path: dir})
	if err != nil {
		return nil, fmt.Errorf("opening log in %q: %w", dir, err)
	}
	l := &Log{dir: dir, where: dir, handler: Handler(dir)}
	if err := l.start(ctx, driver, signer, vkey, opts, awaitPoll); err != nil {
		return nil, fmt.Errorf("opening log in %q: %w: check that the directory holds a tessera POSIX log (or is empty) and is writable", dir, err)
	}
	return l, nil
}

// start runs tessera's appender on driver with signer and fills in the
// rest of l.
func (l *Log) start(ctx context.Context, driver tessera.Driver, signer note.Signer, vkey string, opts Options, poll time.Duration) error {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	topts := tessera.NewAppendOptions().
		WithCheckpointSigner(signer).
		WithCheckpointInterval(opts.CheckpointInterval).
		WithBatching(opts.BatchMaxSize, opts.BatchMaxAge).
		WithAntispam(dedupEntries, nil)
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	appender, shutdown, reader, err := tessera.NewAppender(bg, driver, topts)
	if err != nil {
		cancel()
		return err
	}
	l.origin, l.vkey, l.verifier, l.log = signer.Name(), vkey, verifier, opts.Logger
	l.appender, l.shutdown, l.reader, l.cancel = appender, shutdown, reader, cancel
	l.awaiter = tessera.NewPublicationAwaiter(bg, reader.ReadCheckpoint, poll)
	l.proofs.reader = reader
	l.opened, l.interval = time.Now(), opts.CheckpointInterval
	if cpRaw, err := reader.ReadCheckpoint(ctx); err == nil {
		if cp, _, _, err := log.ParseCheckpoint(cpRaw, l.origin, verifier); err == nil {
			l.next.Store(cp.Size)
		}
	}
	l.log.Info("log opened", "storage", l.where, "origin", l.origin)
	return nil
}

func (o Options) withDefaults(dir string) Options {
	if o.KeyFile == "" && dir != "" {
		o.KeyFile = filepath.Clean(dir) + ".key"
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.BatchMaxSize == 0 {
		o.BatchMaxSize = DefaultBatchMaxSize
	}
	if o.BatchMaxAge == 0 {
		o.BatchMaxAge = DefaultBatchMaxAge
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Origin returns the log's origin (its key's name).
func (l *Log) Origin() string { return l.origin }

// VerifierKey returns the log's note verifier key as text, for
// GET /api/v1/log/key and the trust policy's log.verifierKey.
func (l *Log) VerifierKey() string { return l.vkey }

// Verifier returns the log's note verifier.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// Dir returns the log directory (what Handler serves); "" for a log in a
// bucket (OpenAWS).
func (l *Log) Dir() string { return l.dir }

// Handler serves the log's public files read-only to tlog-tiles clients,
// wherever the log is kept: Handler(Dir()) for a log in a directory, the
// objects of its bucket for a log opened with OpenAWS. Mount it as
// http.StripPrefix("/log", l.Handler()).
func (l *Log) Handler() http.Handler { return l.handler }

// Append adds entry to the log, waits until a published checkpoint commits
// to it and returns its receipt, which carries the entry. Concurrent calls
// are batched together. When ctx ends while Append waits, the entry may
// still be logged: a caller that must know looks it up again (Receipt).
func (l *Log) Append(ctx context.Context, entry []byte) (*receipt.Receipt, error) {
	// The read lock spans the hand-over to tessera, so that Close (which
	// takes the write lock before shutting tessera's appender down) never
	// shuts it down between this check and Add.
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, ErrClosed
	}
	l.inflight.Add(1)
	future := l.appender.Add(ctx, tessera.NewEntry(entry))
	l.mu.RUnlock()
	defer l.inflight.Done()
	if l.afterAdd != nil {
		l.afterAdd()
	}
	idx, cp, err := l.awaiter.Await(ctx, future)
	if err != nil {
		return nil, fmt.Errorf("appending to log %q: %w", l.origin, err)
	}
	l.seen(idx.Index)
	return l.receipt(ctx, idx.Index, entry, cp)
}

// Receipt returns a receipt for the entry at index against the latest
// checkpoint, for an entry logged before (a repeated admission, a restart).
// entry must be the logged bytes: the receipt is checked before it is
// returned.
func (l *Log) Receipt(ctx context.Context, index uint64, entry []byte) (*receipt.Receipt, error) {
	cp, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint of log %q: %w", l.origin, err)
	}
	return l.receipt(ctx, index, entry, cp)
}

// Close stops new appends, waits until every append already accepted is in
// a published checkpoint and its caller has its receipt, then stops the log.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.shutdown(ctx)
	if err == nil {
		// Appends already past the closed check still wait for their
		// checkpoint, which the background tasks publish until cancel.
		done := make(chan struct{})
		go func() { l.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	l.cancel()
	if err != nil {
		return fmt.Errorf("closing log %q: %w: entries accepted but not yet checkpointed are published at the next start", l.origin, err)
	}
	l.log.Info("log closed", "storage", l.where)
	return nil
}
