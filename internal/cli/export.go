package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/upload"
)

// exportCommand is "slipway export": an admitted release, with what it
// takes to verify it offline, into a new directory. A command-line
// command, not an action.
type exportCommand struct {
	net                          netFlags
	release, output              string
	server, token, data, keyFile string
}

func (c *exportCommand) commandLineOnly() {}
func (c *exportCommand) Name() string     { return "export" }
func (c *exportCommand) Short() string {
	return "Write an admitted release into a new directory with everything needed to verify it offline (slipway verify --manifest DIR/manifest.json): the manifest with its receipts, every file it records, the receipt, the log's verifier key and a README.txt; from a server (--server) or a data directory (--data)."
}

func (c *exportCommand) Inputs() []input.Input {
	return append([]input.Input{
		input.String(&c.release, input.Spec{Name: "release", Required: true,
			Description: "The release's ID (r- and 16 hex digits, as slipway upload printed it)."}),
		input.String(&c.output, input.Spec{Name: "output", Required: true,
			Description: "The directory to create; it must not exist or be empty (nothing is overwritten). It appears whole or not at all."}),
		input.String(&c.server, input.Spec{Name: "server", Env: "SLIPWAY_SERVER",
			Description: "The control plane's base URL to export from (https://slipway.example.org; plain http only to a loopback address); with a token of scope read."}),
		input.String(&c.token, input.Spec{Name: "token", Env: "SLIPWAY_TOKEN", Secret: true,
			Description: "A service token with scope read, for server."}),
		input.String(&c.data, input.Spec{Name: "data", Env: "SLIPWAY_DATA",
			Description: "Export offline from this data directory of slipway serve instead of a server (for its administrators; the store is opened as slipway serve opens it)."}),
	}, c.net.inputs()...)
}

func (c *exportCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "release-id", Description: "The release exported."},
		{Name: "output", Description: "The directory written."},
		{Name: "files", Description: "How many files it holds."},
	}
}

func (c *exportCommand) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.useNet(c.net); err != nil {
		return err
	}
	if (c.server == "") == (c.data == "") {
		return exitcode.BadInputf("give one of server (a control plane's URL, with SLIPWAY_TOKEN) and data (its data directory, offline)")
	}
	if !export.ValidID(c.release) {
		return exitcode.BadInputf("input \"release\": %q is not a release ID; give r- and 16 hex digits, as slipway upload printed it", c.release)
	}
	if err := export.CheckOutput(rt.path(c.output)); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"output\": %w", err))
	}
	var src export.Source
	if c.server != "" {
		base, err := upload.ServerURL(c.server)
		if err != nil {
			return exitcode.BadInput(err)
		}
		if c.token == "" {
			return exitcode.BadInputf("no token for the control plane: set SLIPWAY_TOKEN to a token with scope read")
		}
		rt.Report.Mask(c.token)
		src = &export.HTTPSource{Base: base, Token: c.token, HTTP: rt.Net.Client("control plane")}
	} else {
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
		src = &export.DataSource{Dir: string(dir), Store: db, Blobs: blobs, KeyFile: tlog.VerifierFile(dir.LogKey())}
	}
	var res *export.Result
	err := rt.Group("slipway export: release "+c.release+" from "+src.String()+" into "+c.output, func() error {
		var err error
		res, err = export.Export(ctx, export.Options{Source: src, Release: c.release, Output: rt.path(c.output), Now: rt.Now})
		return err
	})
	if err != nil {
		var se *export.StatusError
		switch {
		case errors.Is(err, export.ErrNotFound), errors.As(err, &se) && (se.Status == 401 || se.Status == 403):
			return exitcode.BadInput(err)
		}
		return exitcode.Infra(fmt.Errorf("exporting release %q: %w", c.release, err))
	}
	for _, o := range [][2]string{{"release-id", res.Release.ID}, {"output", c.output}, {"files", strconv.Itoa(len(res.Files))}} {
		if err := rt.Output(o[0], o[1]); err != nil {
			return err
		}
	}
	return nil
}
