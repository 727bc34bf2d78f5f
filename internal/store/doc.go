// Package store is the control plane's metadata behind one small interface:
// service tokens (their Argon2id hashes, never the secrets), the releases
// admission records with their artifacts' digests, and the dispatches of
// releases to Slurm with their log entries and the jobs' last known states,
// and the intents of log entries about to be appended (Intents), whose row's
// insert removes them in its own transaction.
//
// The interface is the contract; implementations live in sibling packages:
// store/sqlite is the embedded default (one file, pure Go), store/mysql
// serves replicas sharing a MySQL-compatible database; store/sqlkit holds
// the SQL they share, and store/storetest the conformance suite both pass
// (whoever adds a method adds its contract there). Callers
// branch on the sentinel errors here (ErrNotFound, ErrExists), never on an
// implementation's error text.
//
// A store holds digests and decisions only: it must never hold a token
// secret, an artifact body or any other secret, and it must never decide
// anything (whether a token is valid or a release admissible is decided by
// its callers).
package store
