package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"golang.org/x/time/rate"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/token"
)

// Config is what a Server serves from. Store and Auth are required.
type Config struct {
	Store store.Store
	Blobs blobstore.Store
	Auth  Authenticator
	// Tokens manages service tokens for the admin API (tokens.go); nil
	// means Auth when it is a TokenAdmin (a *token.Manager), else the
	// token routes are not served.
	Tokens TokenAdmin
	// Policy is the site's trust policy (admission will enforce it).
	Policy *policy.Policy
	// Log receives one JSON line per request and the server's events;
	// nil discards.
	Log *slog.Logger
	// PublicURL is where clients reach the server (behind a proxy), for
	// links in answers; empty when it is the listen address.
	PublicURL string
	// RateLimit applies per identity; zero PerSecond means no limit.
	RateLimit RateLimit
	// ShutdownTimeout bounds how long in-flight requests may finish after
	// the context ends; zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// TLS, when set, serves HTTPS with these certificates.
	TLS *tls.Config
	// TLog is the transparency log admissions are recorded in; nil serves
	// neither the log nor admission. The caller opens it and closes it
	// after Serve returns (in-flight appends have finished by then).
	TLog *tlog.Log
	// Uploads is the directory of partial blob uploads (DATA/uploads);
	// empty serves no uploads.
	Uploads string
	// Staging is where admission materialises a release's files
	// (DATA/staging: hard links when the blob store is on the same
	// filesystem, blobstore.Linker; else copies streamed from the store,
	// an S3 bucket's say); emptied of what a crash left at start.
	Staging string
	// UploadTTL is how long an unfinished upload may sit untouched before it
	// is removed; zero means DefaultUploadTTL.
	UploadTTL time.Duration
	// MaxBlobSize bounds one uploaded blob; zero means DefaultMaxBlobSize.
	MaxBlobSize int64
	// OIDC, when set, accepts GitHub Actions OIDC ID tokens as bearer
	// tokens besides service tokens (oidc.go); nil refuses them.
	OIDC OIDCVerifier
	// RegistryTransport reaches registries for admissions by reference;
	// nil means mirror.Guard with default timeouts, refusing non-public
	// addresses unless AllowPrivateRegistries.
	RegistryTransport http.RoundTripper
	// RegistryKeychain gives the server's registry credentials (its Docker
	// config, authn.DefaultKeychain); nil reads registries anonymously.
	// Credentials never come from a request.
	RegistryKeychain authn.Keychain
	// AllowPrivateRegistries lets admissions by reference name registries
	// on loopback, private and link-local addresses (tests, closed sites).
	AllowPrivateRegistries bool
	// Slurm, when set, lets the server submit admitted releases to Slurm
	// itself (POST /api/v1/releases/{id}/dispatch, enqueue.go).
	Slurm *SlurmConfig
	// Mounts are handlers served beside the API, each under its own
	// ServeMux pattern ("/mcp"), behind the request log and metrics but
	// not the API's authentication: a mounted handler authenticates each
	// request itself, typically by calling this API with the request's
	// token (slipway serve mounts the MCP server so; this package does
	// not import it).
	Mounts []Mount
	// Replica names this server among replicas sharing one database and
	// log, in the log intents it writes (intents.go): a replica starting
	// finishes its own pending intents at once, another's only once they
	// are a minute old. Empty means the host name and the Staging
	// directory, which is the replica's own data directory.
	Replica string
	// Replay makes OIDC ID tokens single-use (ConsumeOIDC); a cache with
	// idtoken's defaults when nil and OIDC is set.
	Replay *idtoken.ReplayCache
}

// Mount is a handler served under Pattern (Config.Mounts).
type Mount struct {
	Pattern string
	Handler http.Handler
}

// DefaultShutdownTimeout is shorter than the grace the CLI gives a command
// after SIGTERM (interrupt.DefaultGrace, 15 s), so that shutdown finishes
// before the process is ended at once.
const DefaultShutdownTimeout = 10 * time.Second

// Route is one endpoint: a ServeMux pattern with its method ("GET /healthz"),
// the scope a token needs ("" for a public endpoint) and its handler.
type Route struct {
	Pattern string
	Scope   token.Scope
	// OIDC lets a verified OIDC ID token through without the scope, which
	// OIDC identities never hold: the handler decides under the policy.
	OIDC    bool
	Handler HandlerFunc
}

// routeGroups lists the endpoint groups, one file each; a new group is a
// method returning its routes, added here.
var routeGroups = []func(*Server) []Route{
	(*Server).opsRoutes,      // ops.go: /healthz, /readyz, /metrics
	(*Server).openAPIRoutes,  // openapi.go: GET /api/v1/openapi.json (openapi.yaml)
	(*Server).artifactRoutes, // artifacts.go: GET /api/v1/artifacts/{digest}
	(*Server).logRoutes,      // log.go: /log/, /api/v1/log/key, /api/v1/log/consistency
	(*Server).blobRoutes,     // blobs.go: /v2/slipway/blobs/... (OCI chunked upload)
	(*Server).releaseRoutes,  // releases.go: /api/v1/releases (admission, reading)
	(*Server).readRoutes,     // read.go: GET /api/v1/releases (list, search), a release's manifest and files
	(*Server).dispatchRoutes, // dispatches.go: recording dispatches of admitted releases
	(*Server).identityRoutes, // identity.go: GET /api/v1/identity
	(*Server).tokenRoutes,    // tokens.go: /api/v1/tokens (admin: list, create, revoke)
	(*Server).rejectedRoutes, // rejections.go: GET /api/v1/rejections
}

// Server is the control plane's HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    Authenticator
	mux     *http.ServeMux
	handler http.Handler
	metrics *metrics
	limits  *limiters
	replay  *idtoken.ReplayCache
	ready   atomic.Bool
	routes  []string // the patterns Handle registered, in order
	uploads *uploads // nil when uploads are not served; Serve expires stale ones
	// dispatches serves the dispatch endpoints; with Config.Slurm, Serve
	// follows again the jobs a previous run submitted.
	dispatches *dispatches
	// unfinished are the keys of the intents this server left pending (a
	// request that failed after writing its intent): only those are looked
	// up when the same request comes again (intents.go).
	unfinished sync.Map
	owner      string // Config.Replica or its default
}

// New builds the server and its routes; it serves nothing until Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Auth == nil {
		return nil, errors.New("server needs a store and an authenticator (a bug in the caller)")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	s := &Server{cfg: cfg, log: cfg.Log, auth: cfg.Auth, mux: http.NewServeMux(), metrics: newMetrics(),
		limits: &limiters{limit: cfg.RateLimit, m: map[string]*rate.Limiter{}}, replay: cfg.Replay}
	if cfg.OIDC != nil && s.replay == nil {
		s.replay = idtoken.NewReplayCache(0, 0, nil)
	}
	s.owner = replicaName(cfg)
	s.mux.Handle("/", s.serve(notFound))
	for _, group := range routeGroups {
		for _, r := range group(s) {
			s.Handle(r)
		}
	}
	for _, m := range cfg.Mounts {
		s.mux.Handle(m.Pattern, m.Handler)
	}
	s.handler = s.observe(s.mux)
	return s, nil
}

// Handle adds a route: behind authentication and the rate limit when it
// has a scope. It panics on a pattern ServeMux refuses or registers twice,
// as ServeMux does: routes are fixed at build time.
func (s *Server) Handle(r Route) {
	h := r.Handler
	if r.Scope != "" {
		h = s.authenticate(r.Scope, r.OIDC, h)
	}
	s.mux.Handle(r.Pattern, s.serve(h))
	s.routes = append(s.routes, r.Pattern)
}

// Routes are the patterns of every route served ("GET /healthz"), in the
// order they were added: the route table the OpenAPI document is checked
// against. Paths no route serves answer 404.
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// Handler is the whole API with its middleware (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish within the shutdown
// timeout, closes what is left, and returns. It returns nil after a
// graceful shutdown; the caller closes the store afterwards. Before it
// answers anything it runs Repair (what Repair could not finish is logged
// and stays pending: the server serves anyway).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.Repair(ctx); err != nil {
		s.log.Error("repairing the log's records at start failed; serving anyway", "err", err.Error())
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSConfig:         s.cfg.TLS,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	if s.uploads != nil {
		ttl := s.cfg.UploadTTL
		if ttl <= 0 {
			ttl = DefaultUploadTTL
		}
		go s.expireUploads(ctx, s.uploads, ttl)
	}
	if s.dispatches != nil && s.cfg.Slurm != nil {
		s.dispatches.resume(ctx)
	}
	s.ready.Store(true)
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	s.log.Info("serving", "addr", ln.Addr().String(), "scheme", scheme, "public_url", s.cfg.PublicURL)
	select {
	case err := <-errc:
		s.ready.Store(false)
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.log.Info("shutting down", "reason", context.Cause(ctx).Error(), "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("in-flight requests did not finish within %s and were cut off: %w; raise --shutdown-timeout if requests are that long", s.cfg.ShutdownTimeout, err)
	}
	<-errc
	s.log.Info("stopped")
	return nil
}
