package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// tokenCommands is "slipway token": service tokens of the control plane's
// data directory. They are command-line commands, not actions.
func tokenCommands(env Env) *cobra.Command {
	tc := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the control plane's service tokens (in the data directory of slipway serve)",
		Args:  cobra.NoArgs,
	}
	for _, c := range []Command{&tokenCreateCommand{}, &tokenListCommand{}, &tokenRevokeCommand{}} {
		tc.AddCommand(cobraCommand(env, c))
	}
	return tc
}

// dataInput is the --data input every server-side command shares.
func dataInput(p *string) input.Input {
	return input.String(p, input.Spec{Name: "data", Env: "SLIPWAY_DATA", Required: true,
		Description: "The control plane's data directory: db.sqlite, blobs/, log/ (created if missing, mode 0700)."})
}

// tokenStore is where the token commands find the tokens: the data
// directory's embedded database, or the --database one.
type tokenStore struct {
	data     string
	database databaseOptions
}

func (s *tokenStore) inputs() []input.Input {
	return append([]input.Input{input.String(&s.data, input.Spec{Name: "data", Env: "SLIPWAY_DATA",
		Description: "The control plane's data directory, whose db.sqlite holds the tokens; not needed with database."})},
		s.database.inputs()...)
}

// with opens the store for f.
func (s *tokenStore) with(ctx context.Context, rt *Runtime, f func(*token.Manager) error) error {
	database, err := s.database.resolve(rt)
	if err != nil {
		return err
	}
	if database.embedded() && s.data == "" {
		return exitcode.BadInputf("no token store: give --data DIR (the data directory of slipway serve) or --database mysql://USER@HOST:PORT/DATABASE (its database)")
	}
	db, err := database.open(ctx, datadir.Dir(rt.path(s.data)))
	if err != nil {
		return err
	}
	defer db.Close()
	return f(token.NewManager(db))
}

type tokenCreateCommand struct {
	store  tokenStore
	name   string
	scopes []string
	ttl    time.Duration
}

func (c *tokenCreateCommand) commandLineOnly() {}
func (c *tokenCreateCommand) Name() string     { return "create" }
func (c *tokenCreateCommand) Short() string {
	return "Create a service token and print it once as token=VALUE; only its Argon2id hash is kept."
}

func (c *tokenCreateCommand) Inputs() []input.Input {
	return append(c.store.inputs(),
		input.List(&c.scopes, input.Spec{Name: "scope", Required: true,
			Description: "What the token may do, comma-separated: upload, read, dispatch, admin."}),
		input.Duration(&c.ttl, input.Spec{Name: "ttl",
			Description: "How long the token works (720h for 30 days); empty for no expiry."}),
		input.String(&c.name, input.Spec{Name: "name", Default: "token",
			Description: "Whose token it is (a person, a CI system); shown in token list and in the server's logs."}),
	)
}

func (c *tokenCreateCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "id", Description: "The token's public ID, for token list and token revoke."},
		{Name: "token", Description: "The token itself, shown this once; clients read it from SLIPWAY_TOKEN."},
	}
}

func (c *tokenCreateCommand) Run(ctx context.Context, rt *Runtime) error {
	scopes, err := token.ParseScopes(c.scopes)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"scope\": %w", err))
	}
	if err := token.CheckName(c.name); err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"name\" %w", err))
	}
	if c.ttl < 0 {
		return exitcode.BadInputf("input \"ttl\": %s is negative; give a positive duration such as 720h, or none for no expiry", c.ttl)
	}
	return c.store.with(ctx, rt, func(m *token.Manager) error {
		tok, rec, err := m.Create(ctx, token.CreateOptions{Name: c.name, Scopes: scopes, TTL: c.ttl})
		if err != nil {
			return exitcode.Infra(fmt.Errorf("creating the token: %w", err))
		}
		rt.Report.Mask(tok)
		if err := rt.Output("id", rec.ID); err != nil {
			return err
		}
		return rt.Output("token", tok)
	})
}

type tokenListCommand struct{ store tokenStore }

func (c *tokenListCommand) commandLineOnly() {}
func (c *tokenListCommand) Name() string     { return "list" }
func (c *tokenListCommand) Short() string {
	return "List the service tokens: ID, name, scopes, created, expires, state (never a secret or a hash)."
}
func (c *tokenListCommand) Inputs() []input.Input   { return c.store.inputs() }
func (c *tokenListCommand) Outputs() []input.Output { return nil }

func (c *tokenListCommand) Run(ctx context.Context, rt *Runtime) error {
	return c.store.with(ctx, rt, func(m *token.Manager) error {
		list, err := m.List(ctx)
		if err != nil {
			return exitcode.Infra(err)
		}
		w := tabwriter.NewWriter(rt.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tSTATE")
		now := rt.Now()
		for _, t := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","),
				stamp(t.Created), stamp(t.Expires), tokenState(t, now))
		}
		return w.Flush()
	})
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func tokenState(t store.Token, now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked " + stamp(t.Revoked)
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return "expired"
	}
	return "active"
}

type tokenRevokeCommand struct {
	store tokenStore
	id    string
}

func (c *tokenRevokeCommand) commandLineOnly() {}
func (c *tokenRevokeCommand) Name() string     { return "revoke" }
func (c *tokenRevokeCommand) Short() string {
	return "Revoke the service token with this ID (from token list); it stops working at once, also in a running server."
}
func (c *tokenRevokeCommand) Inputs() []input.Input   { return c.store.inputs() }
func (c *tokenRevokeCommand) Outputs() []input.Output { return nil }
func (c *tokenRevokeCommand) ArgsUse() string         { return "ID" }

func (c *tokenRevokeCommand) SetArgs(args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("token revoke takes one token ID, got %d arguments; run \"slipway token list\" for the IDs", len(args))}
	}
	c.id = args[0]
	return nil
}

func (c *tokenRevokeCommand) Run(ctx context.Context, rt *Runtime) error {
	return c.store.with(ctx, rt, func(m *token.Manager) error {
		err := m.Revoke(ctx, c.id)
		if errors.Is(err, store.ErrNotFound) || (err != nil && !token.ValidID(c.id)) {
			return exitcode.BadInput(err)
		}
		if err != nil {
			return exitcode.Infra(err)
		}
		fmt.Fprintf(rt.Stderr, "token %s revoked\n", c.id)
		return nil
	})
}
