// Package timeouts bounds every wait on the network: connecting to a peer
// (registry, KMS, Fulcio, Rekor, timestamp authority, the GitHub OIDC token
// endpoint) and each wait for it to answer or to take more of a request.
//
// Config holds the two limits (connect-timeout and timeout). Its Transport
// arms one timer per request at the points where Slipway waits on the peer
// (DNS and TCP connect, TLS handshake, sending, the response headers, each
// read of the response body) and disarms it while Slipway itself is busy, so
// a slow transfer that keeps moving is never cut, and a peer that accepts a
// connection and then stays silent fails with an *Error that names the peer,
// the limit and the input that raises it. Call bounds libraries that take no
// context (a KMS client); RemoteOptions gives go-containerregistry the
// transport and retries whose waits end when the context does.
//
// It must never retry a timeout by itself (a silent peer fails once, with
// the limit named), never wait on a peer without a limit, and never hold a
// caller past its context.
package timeouts
