package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/token"
)

// serveCommand is "slipway serve", the control plane. A command-line
// command, not an action.
type serveCommand struct {
	data, listen, policy, tlsCert, tlsKey, publicURL string
	rateLimit, rateBurst                             string
	shutdownTimeout                                  time.Duration
}

func (c *serveCommand) commandLineOnly() {}
func (c *serveCommand) Name() string     { return "serve" }
func (c *serveCommand) Short() string {
	return "Run the control plane on a data directory (SQLite metadata, content-addressed blobs): health, readiness, metrics and token authentication; serves until SIGTERM or SIGINT."
}

// Long is the rest of --help.
func (c *serveCommand) Long() string {
	return `Endpoints: GET /healthz (200 when serving), GET /readyz (200 when the store
answers), GET /metrics (Prometheus). Logs are JSON lines on stderr, one per
request, with its request id and identity, never a token. On SIGTERM or SIGINT
it stops accepting, lets in-flight requests finish (--shutdown-timeout), closes
the database and exits 0. Admission (upload, receipts) is not served yet.
docs/server.md describes the data directory, backups and tokens.`
}

func (c *serveCommand) Inputs() []input.Input {
	return []input.Input{
		dataInput(&c.data),
		input.String(&c.listen, input.Spec{Name: "listen", Env: "SLIPWAY_LISTEN", Default: "127.0.0.1:8080",
			Description: "The address to listen on, host:port (port 0 picks a free port; the log says which)."}),
		input.String(&c.policy, input.Spec{Name: "policy", Env: "SLIPWAY_POLICY", Required: true,
			Description: "The site's trust policy file (slipway.dev/v1 TrustPolicy, the format slipway verify reads)."}),
		input.String(&c.tlsCert, input.Spec{Name: "tls-cert", Env: "SLIPWAY_TLS_CERT",
			Description: "A PEM certificate chain to serve HTTPS with; needs tls-key."}),
		input.String(&c.tlsKey, input.Spec{Name: "tls-key", Env: "SLIPWAY_TLS_KEY",
			Description: "The PEM private key of tls-cert."}),
		input.String(&c.publicURL, input.Spec{Name: "public-url", Env: "SLIPWAY_PUBLIC_URL",
			Description: "The URL clients reach the server at, when a proxy stands in front (https://host/...)."}),
		input.String(&c.rateLimit, input.Spec{Name: "rate-limit", Env: "SLIPWAY_RATE_LIMIT", Default: "20",
			Description: "Requests per second each token may make on authenticated endpoints; 0 for no limit."}),
		input.String(&c.rateBurst, input.Spec{Name: "rate-burst", Env: "SLIPWAY_RATE_BURST", Default: "40",
			Description: "Requests a token may make at once above its rate before it gets 429."}),
		input.Duration(&c.shutdownTimeout, input.Spec{Name: "shutdown-timeout", Env: "SLIPWAY_SHUTDOWN_TIMEOUT", Default: "10s",
			Description: "How long in-flight requests may take to finish after SIGTERM (at most 14s: the process ends 15s after the signal)."}),
	}
}

func (c *serveCommand) Outputs() []input.Output { return nil }

func (c *serveCommand) Run(ctx context.Context, rt *Runtime) error {
	cfg, err := c.check(rt)
	if err != nil {
		return exitcode.BadInput(err)
	}
	pol, err := policy.Load(rt.path(c.policy))
	if err != nil {
		return exitcode.WithFile(exitcode.BadInput(err), c.policy)
	}
	dir := datadir.Dir(rt.path(c.data))
	db, err := dir.OpenStore(ctx)
	if err != nil {
		return exitcode.BadInput(err)
	}
	defer db.Close()
	blobs, err := blobstore.NewFS(dir.Blobs())
	if err != nil {
		return exitcode.Infra(err)
	}
	log := slog.New(slog.NewJSONHandler(rt.Stderr, &slog.HandlerOptions{Level: logLevel(rt.Getenv)}))
	cfg.Store, cfg.Blobs, cfg.Auth, cfg.Policy, cfg.Log = db, blobs, token.NewManager(db), pol, log
	srv, err := server.New(cfg)
	if err != nil {
		return exitcode.Infra(err)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("listening on %q: %w; give --listen a free host:port", c.listen, err))
	}
	log.Info("starting", "data", string(dir), "policy", rt.path(c.policy))
	if err := srv.Serve(ctx, ln); err != nil {
		return exitcode.Infra(err)
	}
	if sig := interrupt.Of(ctx); sig != nil {
		fmt.Fprintf(rt.Stderr, "slipway serve: stopped by %s after in-flight requests finished\n", interrupt.Name(sig.Sig))
	}
	return nil
}

// check validates the inputs that need no file and returns the server's
// configuration from them (TLS loaded).
func (c *serveCommand) check(rt *Runtime) (server.Config, error) {
	var cfg server.Config
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return cfg, fmt.Errorf("inputs \"tls-cert\" and \"tls-key\" go together; give both for HTTPS, or neither")
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("input \"public-url\": %q is not an absolute http(s) URL; give it like https://slipway.example.org", c.publicURL)
		}
		cfg.PublicURL = c.publicURL
	}
	perSecond, err := strconv.ParseFloat(c.rateLimit, 64)
	if err != nil || perSecond < 0 {
		return cfg, fmt.Errorf("input \"rate-limit\": %q is not a number of requests per second; give one like 20, or 0 for no limit", c.rateLimit)
	}
	burst, err := strconv.Atoi(c.rateBurst)
	if err != nil || burst < 1 {
		return cfg, fmt.Errorf("input \"rate-burst\": %q is not a positive whole number; give one like 40", c.rateBurst)
	}
	cfg.RateLimit = server.RateLimit{PerSecond: perSecond, Burst: burst}
	if c.shutdownTimeout <= 0 || c.shutdownTimeout >= interrupt.DefaultGrace {
		return cfg, fmt.Errorf("input \"shutdown-timeout\": %s is out of range; give a duration above 0 and under %s", c.shutdownTimeout, interrupt.DefaultGrace)
	}
	cfg.ShutdownTimeout = c.shutdownTimeout
	if c.tlsCert != "" {
		certPEM, err := regfile.ReadAll(rt.path(c.tlsCert), 1<<20)
		if err != nil {
			return cfg, fmt.Errorf("input \"tls-cert\": %w", err)
		}
		keyPEM, err := regfile.ReadAll(rt.path(c.tlsKey), 1<<20)
		if err != nil {
			return cfg, fmt.Errorf("input \"tls-key\": %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return cfg, fmt.Errorf("inputs \"tls-cert\" %q and \"tls-key\" %q: %w; give a PEM certificate and its own private key", c.tlsCert, c.tlsKey, err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}
