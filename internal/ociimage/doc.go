// Package ociimage assembles a container image without any daemon: a base
// (scratch, an OCI image layout on disk, or an image in a registry) plus one
// new layer of files (and optionally, below it, a layer holding a root tree
// as is: links, empty and sticky directories) and an entrypoint, written as
// an OCI image layout directory.
//
// The result is reproducible: the layer is a deterministic tar (package
// archive), every time in the config is the given creation time, and the
// manifest and config are OCI types, so the same inputs give the same
// manifest digest on every run and machine.
//
// It must never hold a layer in memory (the layer streams to disk while its
// digests are computed, and is not read again to learn them), never leave a
// half-written layout (it builds in a temporary directory next to the
// destination and renames it into place), and never follow a root tree's
// symbolic links on the build machine: their targets are data, resolved in
// the image.
package ociimage
