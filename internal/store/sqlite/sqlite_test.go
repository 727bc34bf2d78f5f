package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/storetest"
)

func openTemp(t testing.TB) (*DB, string) {
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

// Concurrent CreateRelease calls share transactions (groupcommit.go): a
// release refused in a batch (a manifest recorded twice, an artifact name
// given twice) must not take the others down with it, and every caller
// gets its own answer.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openTemp(t)
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := store.Release{ID: fmt.Sprintf("r%02d", i), ManifestDigest: fmt.Sprintf("sha256:%02d", i), Created: time.Now(),
				Artifacts: []store.Artifact{{Digest: "sha256:bb", Size: 1, Name: "a"}}}
			switch i % 8 {
			case 3: // the manifest of release i-1
				r.ManifestDigest = fmt.Sprintf("sha256:%02d", i-1)
			case 5:
				r.Artifacts = append(r.Artifacts, r.Artifacts[0])
			}
			errs[i] = db.CreateRelease(ctx, r)
		})
	}
	wg.Wait()
	stored := 0
	for i, err := range errs {
		id := fmt.Sprintf("r%02d", i)
		_, rerr := db.Release(ctx, id)
		switch {
		case err == nil && rerr == nil:
			stored++
		case err != nil && errors.Is(rerr, store.ErrNotFound):
			if k := i % 8; k != 2 && k != 3 && k != 5 {
				t.Errorf("release %s refused: %v", id, err)
			}
		default:
			t.Errorf("release %s: CreateRelease said %v, reading it back %v", id, err, rerr)
		}
	}
	// Of each pair sharing a manifest, exactly one is stored: 6 of 8.
	if stored != n*6/8 {
		t.Errorf("%d releases stored, want %d", stored, n*6/8)
	}
}
