package cli

import (
	"context"
	"fmt"
	"strings"

	driver "github.com/go-sql-driver/mysql"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/store"
	mysqlstore "github.com/slipway/actions/internal/store/mysql"
)

// envDatabase is the environment variable of the database input; a password
// in its URL is allowed, one in the --database flag is not (process
// arguments are visible to every user of the machine).
const envDatabase = "SLIPWAY_DATABASE"

// databaseOptions are the inputs that choose where the control plane's
// metadata lives; slipway serve and slipway token share them.
type databaseOptions struct {
	url, password, passwordFile string
}

func (o *databaseOptions) inputs() []input.Input {
	return []input.Input{
		input.String(&o.url, input.Spec{Name: "database", Env: envDatabase,
			Description: "Where the metadata (tokens, releases) lives: empty for the embedded SQLite file DATA/db.sqlite, or mysql://USER@HOST:PORT/DATABASE[?tls=true|skip-verify|preferred&ca=FILE] for a MySQL-compatible server that replicas share (its password from SLIPWAY_DATABASE_PASSWORD or database-password-file, never the command line)."}),
		input.String(&o.password, input.Spec{Name: "database-password", Env: "SLIPWAY_DATABASE_PASSWORD", Secret: true,
			Description: "The password of the mysql:// database's user."}),
		input.String(&o.passwordFile, input.Spec{Name: "database-password-file", Env: "SLIPWAY_DATABASE_PASSWORD_FILE",
			Description: "A file whose first line is the password of the mysql:// database's user (instead of SLIPWAY_DATABASE_PASSWORD)."}),
	}
}

// database is where the metadata lives, resolved from databaseOptions.
type database struct {
	mysql *driver.Config // nil: the embedded SQLite file of the data directory
	shown string         // for logs and messages: the URL without a password
}

// embedded reports whether the metadata is in the data directory's SQLite file.
func (d database) embedded() bool { return d.mysql == nil }

// resolve checks the inputs and reads the password; errors are bad input and never hold the password.
func (o *databaseOptions) resolve(rt *Runtime) (database, error) {
	if o.url == "" {
		if o.password != "" || o.passwordFile != "" {
			return database{}, exitcode.BadInputf("a database password is set (SLIPWAY_DATABASE_PASSWORD or database-password-file) without a mysql:// database; give --database, or unset the password")
		}
		return database{shown: "sqlite"}, nil
	}
	cfg, err := mysqlstore.ParseURL(o.url)
	if err != nil {
		return database{}, exitcode.BadInput(fmt.Errorf("input \"database\": %w", err))
	}
	shown := mysqlstore.Redact(o.url)
	if cfg.Passwd != "" && rt.Getenv(envDatabase) != o.url {
		return database{}, exitcode.BadInputf("input \"database\": %q holds a password on the command line, where every user of the machine can read it; give the password in SLIPWAY_DATABASE_PASSWORD or a database-password-file, or the whole URL in %s", shown, envDatabase)
	}
	if o.password != "" && o.passwordFile != "" {
		return database{}, exitcode.BadInputf("the database password is given twice, in SLIPWAY_DATABASE_PASSWORD and in database-password-file; give one")
	}
	if cfg.Passwd != "" && (o.password != "" || o.passwordFile != "") {
		return database{}, exitcode.BadInputf("the database password is given twice, in the URL of %s and in SLIPWAY_DATABASE_PASSWORD or database-password-file; give one", envDatabase)
	}
	switch {
	case o.password != "":
		cfg.Passwd = o.password
	case o.passwordFile != "":
		b, err := regfile.ReadAll(rt.path(o.passwordFile), 4096)
		if err != nil {
			return database{}, exitcode.BadInput(fmt.Errorf("input \"database-password-file\": %w", err))
		}
		line, _, _ := strings.Cut(string(b), "\n")
		cfg.Passwd = strings.TrimSuffix(line, "\r")
	}
	if cfg.Passwd != "" {
		rt.Report.Mask(cfg.Passwd)
	}
	return database{mysql: cfg, shown: shown}, nil
}

// open opens (migrating) the store: the embedded SQLite file in dir, or the MySQL-compatible database. Its
// errors carry exit codes: a database that cannot be reached or refuses the login is bad input.
func (d database) open(ctx context.Context, dir datadir.Dir) (store.Store, error) {
	if d.embedded() {
		db, err := dir.OpenStore(ctx)
		if err != nil {
			return nil, exitcode.BadInput(err)
		}
		return db, nil
	}
	db, err := mysqlstore.OpenConfig(ctx, d.mysql)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	return db, nil
}
