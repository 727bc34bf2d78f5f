// Package canonjson writes JSON in its canonical form (RFC 8785, the JSON
// Canonicalization Scheme), the bytes that release ids, manifest digests
// and log entries are computed over.
//
// Transform gives exactly the output of the reference implementation
// (github.com/cyberphone/json-canonicalization) for every input: it
// handles the JSON that encoding/json writes for slipway's own types
// (objects, arrays, strings, integers, literals) itself, several times
// faster and with a fraction of the allocations, and hands any document it
// does not handle with certainty (a fraction or exponent, an integer of
// more than 15 digits, a lone surrogate, invalid UTF-8, any syntax error)
// to the reference implementation, whose output or error is returned as
// is. FuzzTransform checks that the two agree.
//
// It must never produce bytes the reference implementation would not: a
// digest that changed with the implementation would make the same
// manifest a different release, and break every receipt's entry.
package canonjson
