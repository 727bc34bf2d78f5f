package mcpserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/policy"
)

// Options configure the MCP server.
type Options struct {
	// Server is the control plane's base URL.
	Server *url.URL
	// HTTP reaches it: a network client for slipway mcp, an in-process
	// cpclient.HandlerTransport for slipway serve's /mcp; nil is a client
	// that follows no redirects.
	HTTP *http.Client
	// Token is the bearer token of every call over stdio. Over HTTP each
	// request's own Authorization header is used instead, and Token must be
	// empty.
	Token string
	// Policy is the trust policy verify_release verifies with (slipway mcp
	// --policy; serve's own policy at /mcp); nil: verify_release answers
	// that it has none.
	Policy *policy.Policy
	// Log receives one line per call, with the identity (never the token).
	Log *slog.Logger
	// Version is the server's version in the MCP handshake.
	Version string
}

// Server builds MCP servers over one control plane.
type Server struct {
	o          Options
	readOnly   *mcp.Server // tools and resources any read token may use
	dispatcher *mcp.Server // plus dispatch_release and cancel_job
	who        identities
}

// New returns the MCP server.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	s := &Server{o: o, who: identities{m: map[[32]byte]cachedIdentity{}}}
	s.readOnly, s.dispatcher = s.build(false), s.build(true)
	return s
}

// build makes one *mcp.Server with the read tools, and the dispatch tools
// when dispatch.
func (s *Server) build(dispatch bool) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "slipway", Title: "Slipway control plane", Version: s.o.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		HasTools:     true,
	})
	srv.AddReceivingMiddleware(s.logCalls)
	s.addReadTools(srv)
	if dispatch {
		s.addDispatchTools(srv)
	}
	s.addResources(srv)
	return srv
}

// instructions tell the agent how the tools fit together.
const instructions = `Slipway's control plane admits only verified releases and records every decision in a transparency log.
Use list_releases / get_release to find releases, verify_release to re-run the verifier, explain_rejection for a refused
release's log entry, get_log_checkpoint and prove_inclusion for what the log proves, list_jobs / get_job for Slurm jobs.
dispatch_release (dispatch scope only) never runs anything itself: it records a request that a person approves with
"slipway approve ID"; check it with get_dispatch_request.`

// Run serves one session over t (stdio: &mcp.StdioTransport{}) with the
// Options' token, offering the tools its scopes allow, until the client
// leaves or ctx ends.
func (s *Server) Run(ctx context.Context, t mcp.Transport) error {
	id, err := s.identity(ctx, s.o.Token)
	if err != nil {
		return err
	}
	s.o.Log.Info("mcp session", "identity", id.Identity, "scopes", id.Scopes, "transport", "stdio")
	return s.forScopes(id).Run(ctx, t)
}

// Handler serves streamable HTTP: each request needs a bearer token (401
// otherwise), and each tool call is made with the token of the request
// that carries it. It is stateless (no session is kept between requests),
// so that any replica of slipway serve behind a load balancer answers any
// request; no tool asks the client anything back.
func (s *Server) Handler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		id, err := s.identity(r.Context(), bearer(r.Header))
		if err != nil {
			return nil
		}
		return s.forScopes(id)
	}, &mcp.StreamableHTTPOptions{Logger: s.o.Log, Stateless: true})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r.Header)
		if tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="slipway"`)
			http.Error(w, "the MCP endpoint needs \"Authorization: Bearer <token>\": a service token of scope read (slipway token create --scope read)", http.StatusUnauthorized)
			return
		}
		if _, err := s.identity(r.Context(), tok); err != nil {
			status := http.StatusBadGateway
			var ce *cpclient.Error
			if errors.As(err, &ce) {
				status = ce.Status
			}
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="slipway", error="invalid_token"`)
			}
			http.Error(w, err.Error(), status)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// forScopes is the server a caller with id's scopes gets.
func (s *Server) forScopes(id Identity) *mcp.Server {
	if slices.Contains(id.Scopes, "dispatch") {
		return s.dispatcher
	}
	return s.readOnly
}

// bearer is the token of an Authorization header; "" when there is none.
func bearer(h http.Header) string {
	v := h.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// Identity is who a token is, as the control plane names it.
type Identity struct {
	Identity string   `json:"identity"`
	Scopes   []string `json:"scopes"`
}

// identities caches GET /api/v1/identity per token (by its hash) for a
// short while, so that each call is logged with its identity without a
// second request.
type identities struct {
	mu sync.Mutex
	m  map[[32]byte]cachedIdentity
}

type cachedIdentity struct {
	id      Identity
	expires time.Time
}

// identityTTL is how long an identity is cached: a revoked token is still
// refused by every API call at once; only the log line's name may be
// this old.
const identityTTL = 30 * time.Second

// identity asks the control plane who tok is.
func (s *Server) identity(ctx context.Context, tok string) (Identity, error) {
	key := sha256.Sum256([]byte(tok))
	now := time.Now()
	s.who.mu.Lock()
	c, ok := s.who.m[key]
	if len(s.who.m) > 1000 {
		clear(s.who.m)
	}
	s.who.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.id, nil
	}
	var id Identity
	if err := s.client(tok).JSON(ctx, "asking the control plane who the token is", "GET", "/api/v1/identity", nil, nil, &id); err != nil {
		return id, err
	}
	s.who.mu.Lock()
	s.who.m[key] = cachedIdentity{id: id, expires: now.Add(identityTTL)}
	s.who.mu.Unlock()
	return id, nil
}

// client is a control-plane client with tok.
func (s *Server) client(tok string) *cpclient.Client { return cpclient.New(s.o.Server, tok, s.o.HTTP) }

// callToken is the token of a call: the HTTP request's, or the stdio
// server's own.
func (s *Server) callToken(extra *mcp.RequestExtra) string {
	if extra != nil && extra.Header != nil {
		return bearer(extra.Header)
	}
	return s.o.Token
}

// call is the control-plane client of a tool call.
func (s *Server) call(req *mcp.CallToolRequest) *cpclient.Client {
	return s.client(s.callToken(req.Extra))
}

// logCalls logs every tool call and resource read with the caller's
// identity, its duration and outcome.
func (s *Server) logCalls(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		var name string
		switch p := req.GetParams().(type) {
		case *mcp.CallToolParamsRaw:
			name = p.Name
		case *mcp.ReadResourceParams:
			name = p.URI
		default:
			return next(ctx, method, req)
		}
		start := time.Now()
		res, err := next(ctx, method, req)
		who := "unknown"
		if id, ierr := s.identity(ctx, s.callToken(req.GetExtra())); ierr == nil {
			who = id.Identity
		}
		outcome := "ok"
		if r, ok := res.(*mcp.CallToolResult); ok && r != nil && r.IsError {
			outcome = "tool-error"
		}
		if err != nil {
			outcome = "error"
		}
		s.o.Log.Info("mcp call", "method", method, "name", name, "identity", who, "outcome", outcome, "duration", time.Since(start).Round(time.Microsecond).String())
		return res, err
	}
}

// toolError is a failed call's message for the agent: the control
// plane's refusal with its detail (never the token), or what failed.
func toolError(op string, err error) error {
	var ce *cpclient.Error
	if errors.As(err, &ce) {
		switch ce.Status {
		case http.StatusForbidden:
			return fmt.Errorf("%s: refused (403 %s): %s", op, ce.Type, ce.Detail)
		case http.StatusNotFound:
			return fmt.Errorf("%s: not found: %s", op, ce.Detail)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
