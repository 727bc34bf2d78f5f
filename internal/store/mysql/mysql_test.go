package mysql

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/storetest"
	"github.com/slipway/actions/internal/testutil/mariadb"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	dsn := mariadb.New(t)
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
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
	db, dsn := openTemp(t)
	next := SchemaVersion() + 1
	if _, err := db.db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, next); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, dsn)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Database != next || tooNew.Binary != SchemaVersion() {
		t.Fatalf("Open on a newer schema: %v, want SchemaTooNewError", err)
	}
	if !strings.Contains(err.Error(), "newer than the") || !strings.Contains(err.Error(), "restore a backup") {
		t.Errorf("message %q does not say what to do", err)
	}
}

// Replicas starting together on a fresh database: the migrations run once (under the lock), every replica
// opens, and the data one writes the others read.
func TestReplicasMigrateTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := mariadb.New(t)
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(ctx, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	var applied int
	if err := dbs[0].db.QueryRow(`SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != int(SchemaVersion()) {
		t.Errorf("%d migrations recorded, want %d (each once)", applied, SchemaVersion())
	}
	if err := dbs[1].CreateToken(ctx, store.Token{ID: "k", Name: "n", Hash: "h", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[n-1].Token(ctx, "k"); err != nil {
		t.Errorf("another replica does not see the token: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dsn := openTemp(t)
	if err := db.CreateToken(ctx, store.Token{ID: "k", Name: "n", Hash: "h", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Token(ctx, "k"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
}

// A bad database address or credentials: an error naming the host and the user, never the password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dsn := mariadb.New(t)
	good, err := driver.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cr3t-never-shown"
	tests := []struct {
		name string
		edit func(c *driver.Config)
		want []string
	}{
		{"wrong password", func(c *driver.Config) { c.Passwd = secret }, []string{good.Addr, "Access denied", good.User, "check the host"}},
		{"unreachable", func(c *driver.Config) { c.Addr, c.Passwd = "127.0.0.1:1", secret }, []string{"127.0.0.1:1", "connection refused"}},
		{"no database name", func(c *driver.Config) { c.DBName, c.Passwd = "", secret }, []string{good.Addr, "has no name"}},
		{"unknown database", func(c *driver.Config) { c.DBName, c.Passwd = "t_none", good.Passwd }, []string{"t_none", good.Addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good.Clone()
			tt.edit(cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			db, err := OpenConfig(ctx, cfg)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), good.Passwd) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// Strict SQL mode: a value too long for its column is refused, never cut.
func TestStrictMode(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	long := strings.Repeat("x", 600)
	err := db.CreateRelease(context.Background(), store.Release{ID: "r", SourceRepository: long, ManifestDigest: "sha256:aa"})
	if err == nil {
		t.Fatal("a 600-character repository was recorded in a 512-character column")
	}
	var mode string
	if err := db.db.QueryRow(`SELECT @@SESSION.sql_mode`).Scan(&mode); err != nil || !strings.Contains(mode, "STRICT_ALL_TABLES") {
		t.Errorf("sql_mode %q, %v", mode, err)
	}
}

// BenchmarkReleases: a page of releases with their artifacts (storetest.BenchmarkReleases).
func BenchmarkReleases(b *testing.B) {
	db, _ := openTemp(b)
	storetest.BenchmarkReleases(b, db)
}
