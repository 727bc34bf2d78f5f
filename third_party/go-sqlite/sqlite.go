// Package sqlite stands in for github.com/glebarez/go-sqlite (through a
// replace directive in slipway's go.mod): grype's database layer opens its
// SQLite files through gorm's github.com/glebarez/sqlite dialector, which
// imports that package for its "sqlite" database/sql driver and its Error
// type. glebarez/go-sqlite is a fork of modernc.org/sqlite, and both
// register the driver name "sqlite" when they are linked, so a binary that
// links both (slipway's store and SBOM stage use modernc.org/sqlite) panics
// at start-up. Here the name and the type are modernc.org/sqlite's own: one
// pure-Go SQLite, registered once.
package sqlite

import msqlite "modernc.org/sqlite"

// Error is the driver's error, whose Code the dialector translates.
type Error = msqlite.Error

// Driver is the database/sql driver registered as "sqlite".
type Driver = msqlite.Driver
