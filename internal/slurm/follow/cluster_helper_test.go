package follow

import (
	"context"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/slurm/rest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// requireCluster returns the machine's test cluster (failing under
// SLIPWAY_REQUIRE_TOOLS=1 when it is not running) and its CLI backend.
func requireCluster(t testing.TB) (*slurmtest.Cluster, slurm.Backend) {
	return slurmtest.Require(t), cli.New(cli.Options{})
}

// eachBackend runs test once per backend (cli, rest) as parallel subtests.
func eachBackend(t *testing.T, test func(t *testing.T, c *slurmtest.Cluster, b slurm.Backend)) {
	c, b := requireCluster(t)
	tok := c.Token(t, time.Hour)
	backends := map[string]slurm.Backend{
		"cli": b,
		"rest": rest.New(rest.Options{URL: c.RESTURL, User: c.User, Token: func(context.Context) (string, error) {
			return tok, nil
		}}),
	}
	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, slurmtest.Require(t), b)
		})
	}
}
