// Package toolchain describes the toolchains a build declares (the build
// stage's toolchains input: names such as "gcc", "go" or "gfortran", or
// absolute paths), for provenance: each is found on the build command's
// PATH, asked for its version, and its executable digested.
//
// Only declared toolchains are described: a compiler that is merely
// installed is not a dependency of the build. A declared toolchain that is
// not on PATH is an error (Find); one whose version cannot be read is
// recorded by its executable's digest alone, with a warning (Describe).
// Version queries run concurrently, each under a time limit, in the
// environment the build command gets. It never reads the process
// environment itself.
package toolchain
