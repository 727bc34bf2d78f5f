// Package lazyregexp is a regular expression compiled on its first use
// instead of at package initialization: every slipway command runs the
// initializers of every package linked into the one binary, so a pattern
// that only `slipway serve` or `slipway dispatch` matches must not cost
// `slipway test` its compilation at start-up.
//
// Patterns are constants of the program: a bad one panics on first use as
// regexp.MustCompile would at start-up, and in test binaries New compiles
// at once, so that the package's tests fail on it even if none matches.
//
// It must never hold a pattern built from input (use regexp.Compile and
// return its error), and never change what a pattern matches.
package lazyregexp
