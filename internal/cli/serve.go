package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gcpace"
	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/interrupt"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/startheap"
	"github.com/slipway/actions/internal/tlog"
)

// serveCommand is "slipway serve", the control plane. A command-line
// command, not an action.
type serveCommand struct {
	data, listen, policy, tlsCert, tlsKey, publicURL string
	rateLimit, rateBurst, oidcAudience               string
	logKey, logOrigin, maxBlobSize                   string
	shutdownTimeout                                  time.Duration
	uploadTTL                                        time.Duration
	allowPrivateRegistries                           bool
	blobFlags
	logFlags
	slurmFlags
	dashboardFlags
	database databaseOptions
}

func (c *serveCommand) commandLineOnly() {}
func (c *serveCommand) Name() string     { return "serve" }
func (c *serveCommand) Short() string {
	return "Run the control plane on a data directory (SQLite metadata, content-addressed blobs, a transparency log): resumable uploads, verified admission with receipts; serves until SIGTERM or SIGINT."
}

// Long is the rest of --help.
func (c *serveCommand) Long() string {
	return `Endpoints: GET /healthz (200 when serving), GET /readyz (200 when the store
answers), GET /metrics (Prometheus). Logs are JSON lines on stderr, one per
request, with its request id and identity, never a token. On SIGTERM or SIGINT
it stops accepting, lets in-flight requests finish (--shutdown-timeout), closes
the log and the database and exits 0.

Blobs are uploaded with the OCI distribution spec's chunked upload under
/v2/slipway/blobs/ (resumable); POST /api/v1/releases admits a build manifest
whose files were uploaded: verified under --policy, the uploader checked, a
release-admitted entry appended to the transparency log (tiles under /log/,
key at /api/v1/log/key) and a receipt returned. With Content-Type
application/vnd.slipway.reference+json and {"reference": "REGISTRY/REPO@sha256:…"}
it admits an image by reference: the server copies it, its OCI referrers and
cosign's tags into its blob store (with the credentials of its own Docker
config) and verifies that copy. docs/server.md describes
every endpoint, the data directory, backups, tokens and key rotation.

Bearer tokens are service tokens (slw_…, slipway token) or, with
--oidc-audience, GitHub Actions OIDC ID tokens for that audience from the
issuers the policy's uploader rules name; such an identity has the scopes
upload and read only.`
}

func (c *serveCommand) Inputs() []input.Input {
	return append([]input.Input{
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
		input.String(&c.logKey, input.Spec{Name: "log-key", Env: "SLIPWAY_LOG_KEY",
			Description: "The transparency log's checkpoint signing key (a note signing key file, mode 0600); default DATA/log.key, created on first start."}),
		input.String(&c.logOrigin, input.Spec{Name: "log-origin", Env: "SLIPWAY_LOG_ORIGIN",
			Description: "The log's origin, its name in checkpoints, when the key is created; default derived from public-url (HOST/PATH/log), else HOSTNAME/slipway/log. It never changes once the key exists."}),
		input.String(&c.maxBlobSize, input.Spec{Name: "max-blob-size", Env: "SLIPWAY_MAX_BLOB_SIZE", Default: "8GiB",
			Description: "The largest blob an upload may send (bytes, or with KiB, MiB, GiB); larger ones get 413."}),
		input.String(&c.oidcAudience, input.Spec{Name: "oidc-audience", Env: "SLIPWAY_OIDC_AUDIENCE",
			Description: "Accept GitHub Actions OIDC ID tokens minted for this audience (mcp-upload's audience input; the server's public URL, say), from the issuers the policy's uploader rules name; unset: service tokens only."}),
		input.Bool(&c.allowPrivateRegistries, input.Spec{Name: "allow-private-registries", Env: "SLIPWAY_ALLOW_PRIVATE_REGISTRIES", Default: "false",
			Description: "Let admissions by reference name registries on loopback, private and link-local addresses (tests, a closed site); by default the server reaches public registries only, since the request names the host it connects to."}),
		input.Duration(&c.uploadTTL, input.Spec{Name: "upload-ttl", Env: "SLIPWAY_UPLOAD_TTL", Default: "24h",
			Description: "How long an unfinished upload may sit untouched before the server removes it (its client then starts that blob over)."}),
		input.Duration(&c.shutdownTimeout, input.Spec{Name: "shutdown-timeout", Env: "SLIPWAY_SHUTDOWN_TIMEOUT", Default: "10s",
			Description: "How long in-flight requests may take to finish after SIGTERM (at most 14s: the process ends 15s after the signal)."}),
	}, append(append(append(c.blobFlags.inputs(), c.database.inputs()...), c.logFlags.inputs()...), append(c.slurmFlags.inputs(), c.dashboardFlags.inputs()...)...)...)
}

func (c *serveCommand) Outputs() []input.Output { return nil }

func (c *serveCommand) Run(ctx context.Context, rt *Runtime) error {
	// A daemon: the heap's start-up tuning is for short runs.
	startheap.Undo()
	cfg, err := c.check(rt)
	if err != nil {
		return exitcode.BadInput(err)
	}
	database, err := c.database.resolve(rt)
	if err != nil {
		return err
	}
	pol, err := policy.Load(rt.path(c.policy))
	if err != nil {
		return exitcode.WithFile(exitcode.BadInput(err), c.policy)
	}
	log := slog.New(slog.NewJSONHandler(rt.Stderr, &slog.HandlerOptions{Level: logLevel(rt.Getenv)}))
	// The collector paced by the live heap (GOGC as the runtime got it
	// wins): admissions allocate much short-lived memory, and the default
	// pace was about a tenth of their CPU (docs/server.md, Performance).
	defer gcpace.Start(ctx, os.Getenv, gcpace.DefaultTarget)()
	if cfg.OIDC, err = c.oidc(pol, log); err != nil {
		return exitcode.WithFile(exitcode.BadInput(err), c.policy)
	}
	cfg.Policy, cfg.Log = pol, log
	dir := datadir.Dir(rt.path(c.data))
	opts, err := c.logOptions(rt, dir)
	if err != nil {
		return exitcode.Infra(err)
	}
	if cfg.Blobs, err = c.blobFlags.open(ctx, rt, dir, log); err != nil {
		return exitcode.BadInput(err)
	}
	if opts.AWS, err = c.logFlags.aws(ctx, rt, log, database, c.blobs, c.logKey); err != nil {
		return exitcode.BadInput(err)
	}
	var api http.Handler // the server's own API, for /mcp's calls, once built
	cfg.Mounts = append(cfg.Mounts, mcpMount(c.publicURL, pol, log, func() http.Handler { return api }))
	ui, err := c.dashboardFlags.mounts(rt, dir, c.publicURL, cfg.TLS != nil || strings.HasPrefix(c.publicURL, "https:"), log, func() http.Handler { return api })
	if err != nil {
		return exitcode.BadInput(err)
	}
	cfg.Mounts = append(cfg.Mounts, ui...)
	cp, err := openControlPlane(ctx, dir, database, cfg, opts)
	if err != nil {
		return err
	}
	defer cp.close(ctx)
	api = cp.srv.Handler()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("listening on %q: %w; give --listen a free host:port", c.listen, err))
	}
	log.Info("starting", "data", string(dir), "database", database.shown, "policy", rt.path(c.policy))
	if err := cp.srv.Serve(ctx, ln); err != nil {
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
	if c.uploadTTL < time.Minute {
		return cfg, fmt.Errorf("input \"upload-ttl\": %s is too short for a client to resume an upload; give at least 1m (default 24h)", c.uploadTTL)
	}
	cfg.UploadTTL = c.uploadTTL
	// Registry credentials for admissions by reference: the server's own
	// Docker config, never the request's.
	cfg.AllowPrivateRegistries, cfg.RegistryKeychain = c.allowPrivateRegistries, authn.DefaultKeychain
	if _, _, err := c.blobFlags.check(); err != nil {
		return cfg, err
	}
	if cfg.Slurm, err = c.slurmFlags.config(rt); err != nil {
		return cfg, err
	}
	if _, err := c.logFlags.check(c.database.url != "", c.blobs, c.logKey); err != nil {
		return cfg, err
	}
	if cfg.MaxBlobSize, err = parseSize(c.maxBlobSize); err != nil {
		return cfg, fmt.Errorf("input \"max-blob-size\": %w", err)
	}
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

// logOptions are the transparency log's options in dir: the key is
// log-key or DATA/log.key, created on first start with the origin
// log-origin, else one derived from public-url.
func (c *serveCommand) logOptions(rt *Runtime, dir datadir.Dir) (tlog.Options, error) {
	opts := tlog.Options{KeyFile: dir.LogKey(), Origin: c.logOrigin}
	if c.logKey != "" {
		opts.KeyFile = rt.path(c.logKey)
	}
	if _, err := os.Stat(opts.KeyFile); errors.Is(err, fs.ErrNotExist) && opts.Origin == "" && c.publicURL != "" {
		origin, err := tlog.OriginFromURL(c.publicURL)
		if err != nil {
			return opts, err
		}
		opts.Origin = origin
	}
	return opts, nil
}

// parseSize reads a size in bytes: a whole number, optionally followed by
// KiB, MiB or GiB.
func parseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size; give bytes (1048576) or a number with KiB, MiB or GiB (8GiB)", s)
	}
	return n * mult, nil
}

// oidc returns the verifier of GitHub Actions OIDC ID tokens: for the
// oidc-audience, of the issuers the policy's uploader rules name (the
// policy is where issuers are configured: GitHub.com, or a GitHub
// Enterprise Server). Nil without oidc-audience.
func (c *serveCommand) oidc(pol *policy.Policy, log *slog.Logger) (server.OIDCVerifier, error) {
	issuers := pol.OIDCIssuers()
	if c.oidcAudience == "" {
		if len(issuers) > 0 {
			log.Warn("the policy has oidc uploader rules, but --oidc-audience is not set: OIDC ID tokens are refused", "issuers", issuers)
		}
		return nil, nil
	}
	if strings.TrimSpace(c.oidcAudience) != c.oidcAudience {
		return nil, fmt.Errorf("input \"oidc-audience\": %q has surrounding spaces; give the audience exactly as clients request it", c.oidcAudience)
	}
	if len(issuers) == 0 {
		return nil, fmt.Errorf("input \"oidc-audience\" is set, but the policy's uploader rules name no OIDC issuer, and an OIDC identity always needs a rule; add an \"uploaders\" entry with \"oidc\" (docs/policy.md), or drop --oidc-audience")
	}
	is, err := idtoken.NewIssuers(issuers, idtoken.Config{Audience: c.oidcAudience})
	if err != nil {
		return nil, err
	}
	log.Info("accepting OIDC ID tokens", "audience", c.oidcAudience, "issuers", is.Names())
	return is, nil
}
