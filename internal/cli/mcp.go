package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/mcpserver"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/startheap"
	"github.com/slipway/actions/internal/version"
)

// mcpCommand is "slipway mcp": the Model Context Protocol server over
// stdio, for an AI agent's client (Claude Desktop, VS Code, …) to start.
// Every tool calls the control plane with the token given here. A
// command-line command.
type mcpCommand struct {
	net    netFlags
	api    apiFlags
	policy string
}

func (c *mcpCommand) commandLineOnly() {}
func (c *mcpCommand) Name() string     { return "mcp" }
func (c *mcpCommand) Short() string {
	return "Serve the Model Context Protocol over stdio: tools to list, read and verify releases, explain refusals, prove log inclusion, follow Slurm jobs and (with the dispatch scope, after an admin's approval) run releases, all through the control plane's API with this token's scopes (docs/mcp.md)."
}

func (c *mcpCommand) Inputs() []input.Input {
	return append(append(c.api.inputs("read (and dispatch to ask for jobs)"),
		input.String(&c.policy, input.Spec{Name: "policy", Env: "SLIPWAY_POLICY",
			Description: "The trust policy verify_release verifies with (the site's, as slipway verify reads it); unset: verify_release answers that it has none."}),
	), c.net.inputs()...)
}

func (c *mcpCommand) Outputs() []input.Output { return nil }

func (c *mcpCommand) Run(ctx context.Context, rt *Runtime) error {
	// A daemon: the heap's start-up tuning is for short runs.
	startheap.Undo()
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	base, tok, err := c.api.resolve(rt, "read")
	if err != nil {
		return err
	}
	var pol *policy.Policy
	if c.policy != "" {
		if pol, err = policy.Load(rt.path(c.policy)); err != nil {
			return exitcode.WithFile(exitcode.BadInput(err), c.policy)
		}
	}
	if rt.Stdin == nil {
		return exitcode.BadInputf("slipway mcp speaks on standard input and output, and has no input: start it from an MCP client")
	}
	// stdout carries the protocol: logs go to stderr, as JSON lines.
	log := slog.New(slog.NewJSONHandler(rt.Stderr, &slog.HandlerOptions{Level: logLevel(rt.Getenv)}))
	srv := mcpserver.New(mcpserver.Options{Server: base, HTTP: rt.Net.Client("control plane"), Token: tok, Policy: pol, Log: log, Version: version.String()})
	t := &mcp.IOTransport{Reader: io.NopCloser(rt.Stdin), Writer: nopWriteCloser{rt.Stdout}}
	if err := srv.Run(ctx, t); err != nil && ctx.Err() == nil {
		return apiError(err)
	}
	return nil
}

// nopWriteCloser is a writer that the transport may close.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// mcpMount is serve's /mcp: the MCP server over streamable HTTP, whose
// tools call this server's own API in-process with each request's bearer
// token (so the same authentication, scopes, rate limits and request log
// apply) and verify with the server's policy. api returns the API's
// handler; it is built after the mount, and requests arrive only after.
func mcpMount(publicURL string, pol *policy.Policy, log *slog.Logger, api func() http.Handler) server.Mount {
	base := &url.URL{Scheme: "http", Host: "slipway.internal"}
	if u, err := url.Parse(publicURL); err == nil && publicURL != "" {
		base = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	in := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api().ServeHTTP(w, r) })
	hc := &http.Client{Transport: cpclient.HandlerTransport{Handler: in},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	srv := mcpserver.New(mcpserver.Options{Server: base, HTTP: hc, Policy: pol, Log: log, Version: version.String()})
	return server.Mount{Pattern: "/mcp", Handler: srv.Handler()}
}
