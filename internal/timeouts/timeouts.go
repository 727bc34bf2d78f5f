package timeouts

import (
	"context"
	"fmt"
	"time"
)

// Defaults for Config's zero fields.
const (
	DefaultConnect  = 10 * time.Second
	DefaultResponse = 60 * time.Second
)

// The inputs (flags, action inputs) and environment variables that set the
// limits; errors name them.
const (
	ConnectInput = "connect-timeout"
	ConnectEnv   = "SLIPWAY_CONNECT_TIMEOUT"
	TimeoutInput = "timeout"
	TimeoutEnv   = "SLIPWAY_NET_TIMEOUT"
)

// Config is how long Slipway waits on the network.
type Config struct {
	// Connect bounds establishing a connection: name lookup, the TCP
	// connect and the TLS handshake, each.
	Connect time.Duration
	// Response bounds each wait for the peer: for the response once the
	// request is sent, for the next bytes of a response body, for the peer
	// to take the next bytes of a request body.
	Response time.Duration
}

// WithDefaults returns c with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Connect <= 0 {
		c.Connect = DefaultConnect
	}
	if c.Response <= 0 {
		c.Response = DefaultResponse
	}
	return c
}

// Phase is what a peer failed to do in time.
type Phase int

const (
	// ConnectPhase: the connection (lookup, TCP, TLS) was not established.
	ConnectPhase Phase = iota + 1
	// ResponsePhase: the peer did not answer, or stopped sending or receiving.
	ResponsePhase
	// CallPhase: a call into a client library (a KMS) did not return.
	CallPhase
)

// Error says that a peer did not answer within a limit. It is neither
// Temporary nor a net.Error timeout: retrying a silent peer only multiplies
// the wait, so retry predicates leave it alone.
type Error struct {
	Peer  string // what the peer is: "registry", "Vault"; "" when unknown
	Host  string // host:port, or a URL
	Phase Phase
	After time.Duration
}

func (e *Error) Error() string {
	who := e.Host
	if e.Peer != "" {
		who = e.Peer + " " + e.Host
	}
	after := Format(e.After)
	switch e.Phase {
	case ConnectPhase:
		return fmt.Sprintf("could not connect to %s within %s (%s); check that it is up and reachable, or raise %s (--%s, %s)",
			who, after, ConnectInput, ConnectInput, ConnectInput, ConnectEnv)
	case CallPhase:
		return fmt.Sprintf("no answer from %s within %s (%s + %s); check that it is up and reachable, or raise %s (--%s, %s)",
			who, after, ConnectInput, TimeoutInput, TimeoutInput, TimeoutInput, TimeoutEnv)
	}
	return fmt.Sprintf("no response from %s within %s (%s); check that it is up, or raise %s (--%s, %s)",
		who, after, TimeoutInput, TimeoutInput, TimeoutInput, TimeoutEnv)
}

// Format writes a limit as its input is written: whole seconds as "60s"
// (not "1m0s"), anything finer as Go does ("300ms").
func Format(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%ds", int64(d/time.Second))
	}
	return d.String()
}

// Call runs f and returns its result, or an *Error when f has not returned
// within c.Connect+c.Response, or the context's error once ctx is done. It
// is for client libraries that take no context or set no timeouts (the
// KMS providers): f keeps running in the background when Call gives up on
// it, and its result is dropped. f gets a context that is done when Call
// gives up, for whatever in it does take one.
func Call[T any](ctx context.Context, c Config, peer, host string, f func(context.Context) (T, error)) (T, error) {
	c = c.WithDefaults()
	limit := c.Connect + c.Response
	ctx, cancel := context.WithTimeoutCause(ctx, limit, &Error{Peer: peer, Host: host, Phase: CallPhase, After: limit})
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}
