package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/storetest"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTemp(t)
		return db
	})
}

// An older binary must not write into a schema it does not know.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTemp(t)
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	next := SchemaVersion() + 1
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, next); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(ctx, path)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != next || tooNew.Binary != SchemaVersion() {
		t.Fatalf("Open on a newer schema: %v, want SchemaTooNewError", err)
	}
	if !strings.Contains(err.Error(), "newer than the") || !strings.Contains(err.Error(), "restore a backup") {
		t.Errorf("message %q does not say what to do", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openTemp(t)
	if err := db.CreateToken(ctx, store.Token{ID: "k", Name: "n", Hash: "h", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Token(ctx, "k"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	if err := db2.Ping(ctx); err != nil {
		t.Error(err)
	}
}
