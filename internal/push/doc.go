// Package push is the push stage: it puts content in an OCI registry under a
// tag and returns the pinned reference (registry/repository@sha256:…).
//
// The content is either an OCI image layout ("oci-layout:DIR": the image or
// index that its index.json names) or a set of files pushed as one OCI 1.1
// artifact (see ArtifactType for its layout). Given only the build's
// manifest, push pushes what it lists: its files, its image, or both as one
// OCI image index (the image for its platform, the files' artifact for
// "unknown/unknown"), so that one pinned digest covers the whole build. Tags are immutable unless the
// caller allows overwriting: different content under an existing tag is a
// failed check that names both digests, identical content is a no-op, and
// a new tag is read back after it was set, so that of two pushes racing for
// it the one that was overwritten fails (TagMovedError).
//
// Files are streamed from disk, never held in memory, and their digests are
// learned once, before anything is sent: from the build's artifact manifest
// (trusted for the manifest, checked while uploading), from the digest cache
// (package digestcache: a file unchanged since slipway last read it), or in
// one hashing pass. Then every blob is looked up in the target repository
// and skipped when it is there, mounted from another repository of the same
// registry when one has it (Options.MountFrom, the repositories the build
// manifest records pushes to, those the digest cache remembers), and only
// otherwise uploaded, reading the file once more. A re-push of content the
// registry has reads and sends nothing but manifests when a record gives the
// digests. Memory is independent of file sizes.
//
// This package must never read an artifact into memory, never print (it
// logs only through the injected *slog.Logger), never log or store a
// credential, and never move an existing tag unless Options.AllowOverwrite is
// set. It knows nothing of GitHub Actions.
package push
