package follow

import (
	"testing"

	"github.com/slipway/actions/internal/slurm"
	"github.com/slipway/actions/internal/slurm/cli"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// requireCluster returns the machine's test cluster (failing under
// SLIPWAY_REQUIRE_TOOLS=1 when it is not running) and its CLI backend.
func requireCluster(t testing.TB) (*slurmtest.Cluster, slurm.Backend) {
	return slurmtest.Require(t), cli.New(cli.Options{})
}
