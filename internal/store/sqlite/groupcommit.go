package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// groupCommit writes the releases of concurrent CreateRelease calls (and
// the intents of CreateIntent, one before each admission's log entry) in
// one transaction, so that many admissions share one commit (one fsync of the
// WAL under synchronous=FULL) instead of queueing for a commit each. There
// is no timer: the first caller to find the writer free writes everything
// queued by then; whoever arrives while it writes waits for the next
// transaction, which takes all of them. One release alone costs what it
// cost before. Each release has its own savepoint, so that one that fails
// (ErrExists) is rolled back without the others; a failed commit fails
// every release of the batch, and none of them is stored.
type groupCommit struct {
	mu      sync.Mutex // guards queue
	queue   []*pendingWrite
	writing sync.Mutex // held by the caller writing a batch
}

// pendingWrite is one caller's write in a batch: what names it in errors.
type pendingWrite struct {
	what  string
	write func(context.Context, *releaseStmts) error
	done  chan error // buffered: the writer never blocks on it
}

// CreateRelease implements store.Store. A caller returns once its release
// is committed (or refused). A context already ended refuses the release;
// once queued, the release is written whatever becomes of ctx, since its
// transaction may hold other callers' releases.
func (d *DB) CreateRelease(ctx context.Context, r store.Release) error {
	return d.grouped(ctx, fmt.Sprintf("release %q", r.ID), func(ctx context.Context, st *releaseStmts) error {
		if err := insertRelease(ctx, st, r); err != nil {
			return err
		}
		if _, err := st.delIntent.ExecContext(ctx, r.ManifestDigest, store.IntentRelease); err != nil {
			return fmt.Errorf("removing the release intent %q: %w", r.ManifestDigest, err)
		}
		return nil
	})
}

// CreateIntent implements store.Store, in the group commit of releases.
func (d *DB) CreateIntent(ctx context.Context, i store.Intent) error {
	return d.grouped(ctx, fmt.Sprintf("the %s intent %q", i.Kind, i.Key), func(ctx context.Context, st *releaseStmts) error {
		_, err := st.insIntent.ExecContext(ctx, sqlkit.IntentArgs(i)...)
		return sqlkit.IntentError(err, i, isConstraint)
	})
}

// grouped runs write in the next batch of the group commit and returns its
// outcome once the batch is committed (or failed).
func (d *DB) grouped(ctx context.Context, what string, write func(context.Context, *releaseStmts) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recording %s: %w", what, context.Cause(ctx))
	}
	p := &pendingWrite{what: what, write: write, done: make(chan error, 1)}
	g := &d.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	g.mu.Unlock()
	g.writing.Lock()
	select {
	case err := <-p.done: // an earlier writer's batch held it
		g.writing.Unlock()
		return err
	default:
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	d.writeBatch(context.WithoutCancel(ctx), batch)
	g.writing.Unlock()
	return <-p.done
}

// writeBatch records batch in one transaction and answers each caller.
func (d *DB) writeBatch(ctx context.Context, batch []*pendingWrite) {
	errs := make([]error, len(batch))
	err := func() (err error) {
		tx, err := d.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tx.Rollback()
			}
		}()
		st := d.stmts.in(ctx, tx)
		for i, p := range batch {
			if _, err := st.savepoint.ExecContext(ctx); err != nil {
				return err
			}
			if errs[i] = p.write(ctx, st); errs[i] != nil {
				if _, err := st.rollbackTo.ExecContext(ctx); err != nil {
					return err
				}
			}
			if _, err := st.release.ExecContext(ctx); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	for i, p := range batch {
		switch {
		case err != nil:
			p.done <- fmt.Errorf("recording %s: %w", p.what, err)
		default:
			p.done <- errs[i]
		}
	}
}

// releaseStmts are the statements writeBatch runs for every release,
// prepared once on the writing connection (instead of parsed again for
// every release of every batch).
type releaseStmts struct {
	savepoint, rollbackTo, release   *sql.Stmt
	insRelease, insArtifact, insFile *sql.Stmt
	insIntent, delIntent             *sql.Stmt
}

// prepareReleaseStmts prepares them on db.
func prepareReleaseStmts(ctx context.Context, db *sql.DB) (*releaseStmts, error) {
	var st releaseStmts
	for _, s := range []struct {
		to  **sql.Stmt
		sql string
	}{
		{&st.savepoint, `SAVEPOINT release`},
		{&st.rollbackTo, `ROLLBACK TO release`},
		{&st.release, `RELEASE release`},
		{&st.insRelease, sqlkit.InsertRelease},
		{&st.insArtifact, `INSERT INTO artifacts (release_id, digest, size, name) VALUES (?, ?, ?, ?)`},
		{&st.insFile, `INSERT INTO release_files (release_id, role, name, path, digest, size, media_type, describes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&st.insIntent, sqlkit.InsertIntent},
		{&st.delIntent, sqlkit.DeleteIntent},
	} {
		var err error
		if *s.to, err = db.PrepareContext(ctx, s.sql); err != nil {
			st.Close()
			return nil, fmt.Errorf("preparing %q: %w", s.sql, err)
		}
	}
	return &st, nil
}

// in returns the statements bound to tx (on the one writing connection,
// where they are prepared already).
func (st *releaseStmts) in(ctx context.Context, tx *sql.Tx) *releaseStmts {
	return &releaseStmts{savepoint: tx.StmtContext(ctx, st.savepoint), rollbackTo: tx.StmtContext(ctx, st.rollbackTo),
		release: tx.StmtContext(ctx, st.release), insRelease: tx.StmtContext(ctx, st.insRelease),
		insArtifact: tx.StmtContext(ctx, st.insArtifact), insFile: tx.StmtContext(ctx, st.insFile),
		insIntent: tx.StmtContext(ctx, st.insIntent), delIntent: tx.StmtContext(ctx, st.delIntent)}
}

// Close closes the prepared statements.
func (st *releaseStmts) Close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.savepoint, st.rollbackTo, st.release, st.insRelease, st.insArtifact, st.insFile, st.insIntent, st.delIntent} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// insertRelease inserts r and its artifacts with st (bound to a transaction).
func insertRelease(ctx context.Context, st *releaseStmts, r store.Release) error {
	args, err := sqlkit.ReleaseArgs(r)
	if err != nil {
		return fmt.Errorf("recording release %q: %w", r.ID, err)
	}
	_, err = st.insRelease.ExecContext(ctx, args...)
	if isConstraint(err) {
		return fmt.Errorf("release %q (manifest %q): %w", r.ID, r.ManifestDigest, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("recording release %q: %w", r.ID, err)
	}
	for _, a := range r.Artifacts {
		if _, err = st.insArtifact.ExecContext(ctx, r.ID, a.Digest, a.Size, a.Name); err != nil {
			return fmt.Errorf("recording artifact %q of release %q: %w; each artifact name may appear once in a release", a.Name, r.ID, err)
		}
	}
	for _, f := range r.Files {
		if _, err = st.insFile.ExecContext(ctx, r.ID, f.Role, f.Name, f.Path, f.Digest, f.Size, f.MediaType, f.Describes); err != nil {
			return fmt.Errorf("recording file %q (%s) of release %q: %w; each record name may appear once per role in a release", f.Name, f.Role, r.ID, err)
		}
	}
	return nil
}
