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
// Files are streamed from disk and read at most once: a digest known from the
// build's artifact manifest is trusted for the manifest and checked while
// uploading (a blob the repository already has is not read at all); an
// unknown one is computed while uploading, or, when the tag already exists,
// in a hashing pass that decides between "already present" and "tag exists"
// and uploads nothing. Memory is independent of file sizes.
//
// This package must never read an artifact into memory, never print (it
// logs only through the injected *slog.Logger), never log or store a
// credential, and never move an existing tag unless Options.AllowOverwrite is
// set. It knows nothing of GitHub Actions.
package push
