package timeouts

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Transport returns an HTTP transport for peer (a word for errors, such as
// "registry" or "Fulcio"; "" names the host alone) that bounds every wait
// by c: a clone of http.DefaultTransport (proxies from the environment,
// HTTP/2) whose requests fail with an *Error when the peer stays silent.
func (c Config) Transport(peer string) http.RoundTripper {
	c = c.WithDefaults()
	base := http.DefaultTransport.(*http.Transport).Clone()
	// The dial and handshake limits end dials the pool finishes after the
	// request that started them gave up; they are a little longer than the
	// request's own timer, which fires first and names the limit.
	base.DialContext = (&net.Dialer{Timeout: c.Connect + slack, KeepAlive: 30 * time.Second}).DialContext
	base.TLSHandshakeTimeout = c.Connect + slack
	return &transport{base: base, c: c, peer: peer}
}

// Wrap bounds the requests of an existing transport by c, for callers that
// need their own (a TLS configuration, a test server's client). Its dials
// are bounded by the per-request timer only.
func (c Config) Wrap(peer string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		return c.Transport(peer)
	}
	return &transport{base: base, c: c.WithDefaults(), peer: peer}
}

// Client returns an HTTP client on c.Transport(peer), without an overall
// deadline: transfers that keep moving may take as long as they need.
func (c Config) Client(peer string) *http.Client {
	return &http.Client{Transport: c.Transport(peer)}
}

// slack is how much longer the pool's own dial limits are.
const slack = time.Second

type transport struct {
	base http.RoundTripper
	c    Config
	peer string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := &watch{cancel: cancel, t: t, host: req.URL.Host}
	ctx = httptrace.WithClientTrace(ctx, w.trace())
	r := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = &requestBody{ReadCloser: req.Body, w: w}
	}
	w.arm(t.c.Connect, ConnectPhase) // until the first hook: lookup, or a pooled connection
	resp, err := t.base.RoundTrip(r)
	w.disarm()
	if err != nil {
		cancel(nil)
		return nil, w.explain(ctx, err)
	}
	resp.Body = &responseBody{ReadCloser: resp.Body, w: w, ctx: ctx}
	return resp, nil
}

// watch is the timer of one request: armed while the request waits on the
// peer, disarmed while Slipway is busy.
type watch struct {
	cancel context.CancelCauseFunc
	t      *transport
	host   string

	mu    sync.Mutex
	timer *time.Timer
	// connected is set once a connection is in hand: late hooks of a dial
	// the pool finishes for someone else must not rearm the connect limit.
	connected bool
}

func (w *watch) arm(d time.Duration, phase Phase) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	e := &Error{Peer: w.t.peer, Host: w.host, Phase: phase, After: d}
	w.timer = time.AfterFunc(d, func() { w.cancel(e) })
}

func (w *watch) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// connecting arms or disarms the connect limit unless a connection is
// already in hand.
func (w *watch) connecting(arm bool) {
	w.mu.Lock()
	done := w.connected
	w.mu.Unlock()
	switch {
	case done:
	case arm:
		w.arm(w.t.c.Connect, ConnectPhase)
	default:
		w.disarm()
	}
}

func (w *watch) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { w.connecting(true) },
		ConnectStart:      func(string, string) { w.connecting(true) },
		TLSHandshakeStart: func() { w.connecting(true) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { w.connecting(false) },
		GotConn: func(httptrace.GotConnInfo) {
			w.mu.Lock()
			w.connected = true
			w.mu.Unlock()
			w.arm(w.t.c.Response, ResponsePhase) // sending the request
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { w.arm(w.t.c.Response, ResponsePhase) },
	}
}

// explain returns the *Error that ended the request when its timer fired,
// and err otherwise.
func (w *watch) explain(ctx context.Context, err error) error {
	var te *Error
	if cause := context.Cause(ctx); errors.As(cause, &te) {
		return te
	}
	return err
}

// requestBody pauses the timer while Slipway reads what it sends (a file
// from disk), and runs it while the transport writes to the peer.
type requestBody struct {
	io.ReadCloser
	w *watch
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.w.disarm()
	n, err := b.ReadCloser.Read(p)
	b.w.arm(b.w.t.c.Response, ResponsePhase)
	return n, err
}

// responseBody runs the timer while a read waits for the peer.
type responseBody struct {
	io.ReadCloser
	w   *watch
	ctx context.Context
}

func (b *responseBody) Read(p []byte) (int, error) {
	b.w.arm(b.w.t.c.Response, ResponsePhase)
	n, err := b.ReadCloser.Read(p)
	b.w.disarm()
	if err != nil && err != io.EOF {
		err = b.w.explain(b.ctx, err)
	}
	return n, err
}

func (b *responseBody) Close() error {
	b.w.disarm()
	err := b.ReadCloser.Close()
	b.w.cancel(nil)
	return err
}
