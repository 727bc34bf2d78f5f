// Package toolchain finds the build tools on a PATH (go, gcc, rustc, cargo,
// node, python3, java, make) and asks each for its version, for provenance.
//
// It must never fail a build: a missing, slow or broken tool is left out.
// It runs only "--version"-style queries, concurrently, each under a time
// limit, in the environment the build command gets.
package toolchain
