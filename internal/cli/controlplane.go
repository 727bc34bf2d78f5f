package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/token"
)

// controlPlane is a data directory opened for serving: its store, blob
// store and transparency log, and the server over them. slipway serve and
// slipway demo open it the same way.
type controlPlane struct {
	srv *server.Server
	db  store.Store
	tl  *tlog.Log
	cfg server.Config
}

// openControlPlane opens the store of database (migrating it; the
// embedded one in dir by default), blobs (cfg.Blobs, else DATA/blobs) and
// dir's log (with opts; cfg.Log receives tessera's logs too), empties the
// staging directory and builds the server from cfg with them. The caller
// serves it, and calls close once Serve has returned. Its errors carry
// exit codes.
func openControlPlane(ctx context.Context, dir datadir.Dir, database database, cfg server.Config, opts tlog.Options) (_ *controlPlane, err error) {
	db, err := database.open(ctx, dir)
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{db: db}
	defer func() {
		if err != nil {
			cp.close(ctx)
		}
	}()
	blobs := cfg.Blobs
	if blobs == nil {
		if blobs, err = blobstore.NewFS(dir.Blobs()); err != nil {
			return nil, exitcode.Infra(err)
		}
	}
	if cfg.Log != nil {
		tlog.RouteTesseraLogs(cfg.Log)
	}
	opts.Logger = cfg.Log
	if cp.tl, err = tlog.Open(ctx, dir.Log(), opts); err != nil {
		return nil, exitcode.Infra(err)
	}
	if err := os.RemoveAll(dir.Staging()); err != nil {
		return nil, exitcode.Infra(fmt.Errorf("emptying the staging directory %q: %w; remove it by hand", dir.Staging(), err))
	}
	cfg.Store, cfg.Blobs, cfg.Auth = db, blobs, token.NewManager(db)
	cfg.TLog, cfg.Uploads, cfg.Staging = cp.tl, dir.Uploads(), dir.Staging()
	if cp.srv, err = server.New(cfg); err != nil {
		return nil, exitcode.Infra(err)
	}
	cp.cfg = cfg
	return cp, nil
}

// close closes the log, then the store. Serve has returned: no request
// runs, so every append accepted has its caller; closing the log publishes
// what tessera still holds, within the shutdown timeout.
func (cp *controlPlane) close(ctx context.Context) error {
	var err error
	if cp.tl != nil {
		timeout := cp.cfg.ShutdownTimeout
		if timeout <= 0 {
			timeout = server.DefaultShutdownTimeout
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		if err = cp.tl.Close(cctx); err != nil {
			err = fmt.Errorf("closing the transparency log: %w", err)
			if cp.cfg.Log != nil {
				cp.cfg.Log.Error("closing the log", "error", err)
			}
		}
	}
	if cerr := cp.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the database: %w", cerr)
	}
	return err
}
