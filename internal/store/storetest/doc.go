// Package storetest is the conformance suite of package store's interface: Run checks every Store method's
// contract (round trips, ErrExists and ErrNotFound, atomic releases, concurrent writers) against a fresh store
// per test, so that the embedded SQLite store and the MySQL store answer alike. Each implementation's tests call
// Run; whoever adds a method to store.Store adds its contract here.
//
// It holds only what every implementation must do; what one implementation adds (a file, a schema check over
// a DSN) stays in that implementation's tests. It is for tests only and must never be imported by non-test code.
package storetest
