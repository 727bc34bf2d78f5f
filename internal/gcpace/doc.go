// Package gcpace paces the garbage collector of a long-running server
// (slipway serve) by its live heap: while the live heap is small, the
// collector may let the heap grow to a fixed target (at most five times
// the live heap) instead of twice the live heap (GOGC=100), so that it
// runs less often; once the live heap is half the target or more,
// the Go default (GOGC=100) holds again. The heap never grows further past
// its live size than with the default because of this package.
//
// It must never override what the operator chose: with GOGC set in the
// environment it does nothing. It never sets a memory limit (GOMEMLIMIT
// keeps its meaning) and is for long-running servers only, not for
// commands that exit after one job.
package gcpace
