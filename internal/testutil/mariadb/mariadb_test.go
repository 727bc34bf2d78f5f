package mariadb

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each test gets its own database, writable by its user, closed to other tests' users, and gone afterwards.
func TestNew(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("use", func(t *testing.T) {
		first = New(t)
		second := New(t)
		if first == second {
			t.Fatalf("two calls gave one DSN %q", first)
		}
		db := open(t, first)
		if _, err := db.ExecContext(ctx, "CREATE TABLE x (id INT PRIMARY KEY)"); err != nil {
			t.Fatalf("creating a table in the test database: %v", err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO x VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		other, _ := mysql.ParseDSN(second)
		if _, err := db.ExecContext(ctx, "CREATE TABLE `"+other.DBName+"`.y (id INT)"); err == nil {
			t.Error("a test's user wrote into another test's database")
		}
	})
	if t.Skipped() || first == "" {
		return
	}
	cfg, err := mysql.ParseDSN(first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.DBName, "t_") || cfg.Addr != Addr || !cfg.ParseTime {
		t.Errorf("DSN %q: database %q, address %q, parseTime %v", first, cfg.DBName, cfg.Addr, cfg.ParseTime)
	}
	adminCfg, err := adminConfig()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := connect(adminCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", cfg.DBName).Scan(&n); err != nil || n != 0 {
		t.Errorf("database %s after the test: %d left (%v)", cfg.DBName, n, err)
	}
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE user = ?", cfg.User).Scan(&n); err != nil || n != 0 {
		t.Errorf("user %s after the test: %d left (%v)", cfg.User, n, err)
	}
}

// Without a server that answers, a test is skipped (or failed under SLIPWAY_REQUIRE_TOOLS=1), never left hanging.
func TestNewUnreachableSkips(t *testing.T) {
	t.Setenv("SLIPWAY_REQUIRE_TOOLS", "")
	t.Setenv(EnvAdminDSN, "nobody:x@tcp(127.0.0.1:1)/")
	var reached bool
	t.Run("inner", func(t *testing.T) {
		New(t)
		reached = true
	})
	if reached {
		t.Error("New returned without a server")
	}
}
