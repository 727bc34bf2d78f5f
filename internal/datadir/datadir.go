package datadir

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/store/sqlite"
)

// Dir is a data directory.
type Dir string

// DB is the SQLite metadata file.
func (d Dir) DB() string { return filepath.Join(string(d), "db.sqlite") }

// Blobs is the root of the content-addressed blob store.
func (d Dir) Blobs() string { return filepath.Join(string(d), "blobs") }

// Log is the transparency log's directory.
func (d Dir) Log() string { return filepath.Join(string(d), "log") }

// Uploads holds blob uploads in progress, a file each.
func (d Dir) Uploads() string { return filepath.Join(string(d), "uploads") }

// Staging holds admission's staging directories while they are checked.
func (d Dir) Staging() string { return filepath.Join(string(d), "staging") }

// Incoming holds blobs an S3 blob store is checking before it sends them
// (--blobs s3://…).
func (d Dir) Incoming() string { return filepath.Join(string(d), "incoming") }

// LogKey is the log's checkpoint signing key (tlog.Options.KeyFile's
// default for Log: the verifier key is beside it as log.pub).
func (d Dir) LogKey() string { return filepath.Join(string(d), "log.key") }

// SessionKey is the dashboard's session key file, created on first start
// (slipway serve --dashboard-session-key overrides it).
func (d Dir) SessionKey() string { return filepath.Join(string(d), "dashboard-session.key") }

// Ensure creates the data directory (mode 0700: it holds token hashes and
// the log's key) if it does not exist, and checks that it is a directory.
func (d Dir) Ensure() error {
	if d == "" {
		return fmt.Errorf("no data directory; give --data DIR (or SLIPWAY_DATA)")
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return fmt.Errorf("creating the data directory %q: %w; give --data a directory you can write", string(d), err)
	}
	return nil
}

// OpenStore ensures the directory and opens (migrating) its database.
func (d Dir) OpenStore(ctx context.Context) (*sqlite.DB, error) {
	if err := d.Ensure(); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, d.DB())
}
