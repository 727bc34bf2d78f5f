// Package workspace resolves paths that users give (inputs, flags, manifest
// records) inside the workspace root, following symbolic links the way the
// kernel will when the path is opened, and refuses every path that would
// leave the root: a ".." that climbs out of it, an absolute path elsewhere,
// or a symbolic link (at any component, the last one included) whose target
// lies outside.
//
// Resolve walks the path one component at a time from the root: each
// existing component is resolved with Lstat and Readlink, and a missing tail
// (the file or directories a stage is about to create) is taken as written.
// The result is the path the kernel would reach, expressed under the root as
// the caller gave it. Stages resolve every path they write and every subject
// they read from user input through it before opening anything.
//
// It must never open, create or read a file (only Lstat and Readlink), and
// never accept a path because of how it looks: only where it leads counts.
// It cannot close the window between resolving and opening (a link swapped
// in between by someone who can write to the workspace); the workspace is
// the job's own checkout, and whoever can write to it already controls the
// build.
package workspace
