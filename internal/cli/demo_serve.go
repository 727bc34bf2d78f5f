package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/token"
)

// demoLogOrigin names the demo's log: a fresh one each run, on this machine.
const demoLogOrigin = "localhost/slipway-demo/log"

// demoControlPlane is the demo's slipway serve, in-process on a loopback
// port, over a data directory inside the demo directory.
type demoControlPlane struct {
	// URL is the server's base URL; Data its data directory.
	URL, Data string
	// Policy is the demo's trust policy with the log's section: its key
	// inline, receipts required.
	Policy string
	// LogKey is the log's note verifier key.
	LogKey string
	// token is the upload-scoped service token, in memory only (the store
	// keeps its Argon2id hash).
	token string

	cp   *controlPlane
	stop context.CancelFunc
	done chan error
}

// startDemoControlPlane opens DIR/control-plane (SQLite, blobs, a log with a
// fresh key), creates an upload token in it, serves it on a loopback port
// under sitePolicy, and writes DIR/receipts-policy.yaml: sitePolicy with the
// log's key and receipts required.
func startDemoControlPlane(ctx context.Context, dir, sitePolicy string) (_ *demoControlPlane, err error) {
	pol, err := policy.Load(sitePolicy)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("the demo's own policy is invalid (a bug): %w", err))
	}
	d := &demoControlPlane{Data: filepath.Join(dir, "control-plane"), Policy: filepath.Join(dir, "receipts-policy.yaml")}
	// The server's request logs and tessera's are not the demo's output:
	// the upload and verify stages report what happened.
	cfg := server.Config{Policy: pol, ShutdownTimeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)}
	d.cp, err = openControlPlane(ctx, datadir.Dir(d.Data), database{}, cfg, tlog.Options{Origin: demoLogOrigin, KeyFile: datadir.Dir(d.Data).LogKey()})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.cp.close(ctx)
		}
	}()
	tok, _, err := token.NewManager(d.cp.db).Create(ctx, token.CreateOptions{Name: "demo", Scopes: []token.Scope{token.Upload}})
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("creating the demo's upload token: %w", err))
	}
	d.token, d.LogKey = tok, d.cp.tl.VerifierKey()
	site, err := os.ReadFile(sitePolicy)
	if err != nil {
		return nil, exitcode.Infra(err)
	}
	withLog := strings.TrimRight(string(site), "\n") + "\nlog:\n  verifierKey: " + d.LogKey + "\n  receipts: required\n"
	if err := os.WriteFile(d.Policy, []byte(withLog), 0o644); err != nil {
		return nil, exitcode.Infra(fmt.Errorf("writing the demo's receipts policy: %w", err))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("starting the demo's control plane: %w", err))
	}
	d.URL = "http://" + ln.Addr().String()
	sctx, stop := context.WithCancel(ctx)
	d.stop, d.done = stop, make(chan error, 1)
	go func() { d.done <- d.cp.srv.Serve(sctx, ln) }()
	return d, nil
}

// Close shuts the server down gracefully (in-flight requests finish), then
// closes the log and the store. It may be called more than once.
func (d *demoControlPlane) Close(ctx context.Context) error {
	if d.stop == nil {
		return nil
	}
	d.stop()
	d.stop = nil
	err := <-d.done
	if cerr := d.cp.close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return exitcode.Infra(fmt.Errorf("stopping the demo's control plane: %w", err))
	}
	return nil
}

// runDemoStage resolves cmd's inputs from flags and getenv and runs it in
// the workspace; its outputs go to report.
func runDemoStage(ctx context.Context, rt *Runtime, cmd Command, flags map[string]string, getenv func(string) string) error {
	if _, err := input.Resolve(cmd.Inputs(), input.Source{Flags: flags, Getenv: getenv}); err != nil {
		return exitcode.Infra(fmt.Errorf("the demo's own inputs of slipway %s are invalid (a bug): %w", cmd.Name(), err))
	}
	child := *rt
	child.Getenv, child.outputs = getenv, cmd.Outputs()
	return cmd.Run(ctx, &child)
}
