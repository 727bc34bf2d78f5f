package mariadb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/slipway/actions/internal/testutil/tools"
)

// The test server that scripts/setup starts (see the package documentation).
const (
	// Addr is where the server listens.
	Addr = "127.0.0.1:33306"
	// AdminUser has all privileges; New uses it to create and drop test databases.
	AdminUser = "slipway_admin"
	// AdminPasswordFile holds AdminUser's password (root only).
	AdminPasswordFile = "/var/lib/slipway-mariadb/admin.password"
	// EnvAdminDSN, when set, is the admin connection to use instead (go-sql-driver/mysql form).
	EnvAdminDSN = "SLIPWAY_MARIADB_ADMIN_DSN"
)

const connectTimeout = 5 * time.Second

// New creates a database and a user for t on the test server and returns that user's DSN in
// go-sql-driver/mysql form (user:pw@tcp(127.0.0.1:33306)/t_xxxxxxxxxxxx?parseTime=true). The user has all
// privileges on that database and no other. t.Cleanup drops both. When the server does not answer, the test is
// skipped, or failed under SLIPWAY_REQUIRE_TOOLS=1.
func New(t testing.TB) string {
	t.Helper()
	adminCfg, err := adminConfig()
	if err != nil {
		tools.Unavailable(t, err.Error())
		return ""
	}
	admin, err := connect(adminCfg)
	if err != nil {
		tools.Unavailable(t, err.Error())
		return ""
	}
	name := "t_" + randomHex(6)
	password := randomHex(16)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, stmt := range []string{
		"CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE USER '" + name + "'@'localhost' IDENTIFIED BY '" + password + "'",
		"GRANT ALL PRIVILEGES ON `" + name + "`.* TO '" + name + "'@'localhost'",
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			drop(admin, name)
			admin.Close()
			t.Fatalf("mariadb: creating test database %s on %s: %v", name, adminCfg.Addr, err)
		}
	}
	t.Cleanup(func() {
		if err := drop(admin, name); err != nil {
			t.Errorf("mariadb: dropping test database %s on %s: %v", name, adminCfg.Addr, err)
		}
		admin.Close()
	})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = name, password
	cfg.Net, cfg.Addr = adminCfg.Net, adminCfg.Addr
	cfg.DBName = name
	cfg.ParseTime = true
	return cfg.FormatDSN()
}

// adminConfig returns the admin connection: EnvAdminDSN, or AdminUser on Addr with the password file.
func adminConfig() (*mysql.Config, error) {
	if dsn := os.Getenv(EnvAdminDSN); dsn != "" {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("mariadb: %s is not a DSN (user:pw@tcp(host:port)/): %v", EnvAdminDSN, err)
		}
		return cfg, nil
	}
	pw, err := os.ReadFile(AdminPasswordFile)
	if err != nil {
		return nil, fmt.Errorf("mariadb: the test server's admin password: %v (scripts/setup starts the server and writes it)", err)
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = AdminUser, strings.TrimSpace(string(pw))
	cfg.Net, cfg.Addr = "tcp", Addr
	return cfg, nil
}

func connect(cfg *mysql.Config) (*sql.DB, error) {
	cfg.Timeout = connectTimeout
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mariadb: admin connection to %s: %v", cfg.Addr, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mariadb: the test server on %s does not answer as %s: %v", cfg.Addr, cfg.User, err)
	}
	return db, nil
}

func drop(admin *sql.DB, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return err
	}
	_, err := admin.ExecContext(ctx, "DROP USER IF EXISTS '"+name+"'@'localhost'")
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ServeFlags creates a database for t (as New does) and returns the flags that point slipway serve and slipway
// token at it: --database mysql://USER@127.0.0.1:33306/NAME and --database-password-file with the password in a
// file (mode 0600) in a temporary directory, so that the password is never a process argument.
func ServeFlags(t testing.TB) []string {
	t.Helper()
	dsn := New(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("mariadb: parsing the DSN New made: %v", err)
	}
	pwFile := filepath.Join(t.TempDir(), "database-password")
	if err := os.WriteFile(pwFile, []byte(cfg.Passwd+"\n"), 0o600); err != nil {
		t.Fatalf("mariadb: writing the password file: %v", err)
	}
	return []string{"--database", "mysql://" + cfg.User + "@" + cfg.Addr + "/" + cfg.DBName, "--database-password-file", pwFile}
}
