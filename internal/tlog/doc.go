// Package tlog is Slipway's transparency log: an append-only, tile-based
// Merkle log in the C2SP tlog-tiles layout, kept by transparency-dev's
// tessera, with C2SP signed-note checkpoints signed by an Ed25519 key.
// Open keeps it in a directory (tessera's POSIX driver: one server);
// OpenAWS keeps it in an S3 bucket sequenced through a MySQL-compatible
// database (tessera's AWS driver), so that several servers (replicas)
// append to one log, each through its own *Log; both behave the same.
// Append adds an entry (package entry), waits until a published checkpoint
// commits to it and returns a receipt (package receipt) that anyone can
// check offline with the log's verifier key. ConsistencyProof proves that a later tree extends an earlier one, and
// Log.Handler serves the log's public files read-only to tlog-tiles
// clients, from the directory or the bucket.
//
// Keys: Open loads the checkpoint signing key from Options.KeyFile or, on
// first start, creates it there (mode 0600, written atomically), with the
// verifier key beside it as text (KEYFILE's ".key" replaced by ".pub"). The
// key's name is the log's origin: Options.Origin when given (a server with a
// public URL passes OriginFromURL of it: "https://slipway.example/" gives
// "slipway.example/log"), else the name in an existing key file, else
// "HOSTNAME/slipway/log". The origin is the log's identity and never changes
// once the key exists: Open refuses an Origin other than the key's.
// OpenAWS never creates a key (each replica would make its own): it needs
// Options.KeyFile to exist, made once by CreateKey and given to every
// replica.
//
// It must never write, print or log the private key, never serve anything
// from the log directory or bucket but the checkpoint and tiles, never log
// a database DSN (it holds a password), never hand out a
// receipt that does not verify against a checkpoint it has published, and
// never be imported by a stage package other than verify (which uses only
// packages entry and receipt).
package tlog
