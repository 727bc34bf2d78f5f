// Package vulndb writes grype schema v6 vulnerability databases from records
// its caller states, through grype's own v6 writer, indexed and checksummed
// (import.json) as grype db import leaves them, so that internal/scan opens
// them like a mirrored database. slipway demo writes its offline demo
// database with it; tests and benchmarks write theirs (through scantest).
//
// It must never download, update or merge real vulnerability data, and never
// write anything the caller did not state: a database it writes holds
// exactly the given records. It never leaves a half-written database: the
// directory appears complete or not at all.
package vulndb
