package sbom

// syft's RPM cataloger reads newer RPM databases (rpmdb.sqlite, in Fedora,
// RHEL 9 and later images) through database/sql and needs a driver named
// "sqlite"; syft's own command registers this pure-Go one in its main
// package, so the library user must too (CGO_ENABLED=0 rules out go-sqlite3).
import _ "modernc.org/sqlite"
