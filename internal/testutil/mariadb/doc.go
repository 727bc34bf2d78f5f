// Package mariadb gives a test its own MySQL-compatible database on the machine's test MariaDB server:
// New creates a fresh database and a user allowed only on it, returns the user's DSN, and drops both when the
// test ends. ServeFlags does the same and returns the slipway serve/token flags naming that database.
//
// Connection facts (scripts/setup's start_mariadb sets them up; keep the two in step):
//   - server: Debian's mariadb-server (10.11), one private mariadbd for the machine, listening on
//     127.0.0.1:33306 only (a non-default port, so it never meets a site's MySQL on 3306); data in
//     /var/lib/slipway-mariadb/data, socket, pid file and error log in /run/slipway-mariadb/.
//   - admin: the user slipway_admin@localhost, all privileges, password in
//     /var/lib/slipway-mariadb/admin.password (mode 0600, root only). TCP logins from 127.0.0.1 match
//     user@localhost. SLIPWAY_MARIADB_ADMIN_DSN, when set, names another admin connection
//     (go-sql-driver/mysql form) instead, e.g. a MySQL server elsewhere.
//   - per test: database and user t_<12 hex digits>, a random password, all privileges on that database only;
//     the DSN is go-sql-driver/mysql's form, user:pw@tcp(127.0.0.1:33306)/t_xxxxxxxxxxxx?parseTime=true.
//   - stop the server with SIGTERM to the pid in /run/slipway-mariadb/mysqld.pid; scripts/setup starts it again.
//
// When the server does not answer, New skips the test, or fails it under SLIPWAY_REQUIRE_TOOLS=1 (as
// scripts/test runs every test).
//
// It is for tests only. It must never touch a database it did not create, never print a password, never
// leave a test's database or user behind, and never be imported by non-test code.
package mariadb
