// Package tlog is Slipway's transparency log: an append-only, tile-based
// Merkle log in the C2SP tlog-tiles layout, kept by transparency-dev's
// tessera (POSIX driver) in a directory, with C2SP signed-note checkpoints
// signed by an Ed25519 key. Append adds an entry (package entry), waits until
// a published checkpoint commits to it and returns a receipt (package
// receipt) that anyone can check offline with the log's verifier key.
// ConsistencyProof proves that a later tree extends an earlier one, and
// Handler serves the log's public files read-only to tlog-tiles clients.
//
// Keys: Open loads the checkpoint signing key from Options.KeyFile or, on
// first start, creates it there (mode 0600, written atomically), with the
// verifier key beside it as text (KEYFILE's ".key" replaced by ".pub"). The
// key's name is the log's origin: Options.Origin when given (a server with a
// public URL passes OriginFromURL of it: "https://slipway.example/" gives
// "slipway.example/log"), else the name in an existing key file, else
// "HOSTNAME/slipway/log". The origin is the log's identity and never changes
// once the key exists: Open refuses an Origin other than the key's.
//
// It must never write, print or log the private key, never serve anything
// from the log directory but the checkpoint and tiles, never hand out a
// receipt that does not verify against a checkpoint it has published, and
// never be imported by a stage package other than verify (which uses only
// packages entry and receipt).
package tlog
