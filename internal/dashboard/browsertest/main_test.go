package browsertest

import (
	"context"
	"flag"
	"os"
	"testing"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/interrupt"
)

// update makes TestDashboard write its screenshots into docs/dashboard/.
var update = flag.Bool("update", false, "write the screenshots of the main pages into docs/dashboard/")

// asSlipwayEnv makes this test binary run as slipway itself: the serve process the tests start, and slipway
// exec-verified on the compute node of the Slurm job.
const asSlipwayEnv = "SLIPWAY_BROWSERTEST_AS_SLIPWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asSlipwayEnv) == "1" {
		ctx, stop := interrupt.Notify(context.Background(), interrupt.Config{Stderr: os.Stderr, Cleanup: atomicfile.RemoveTemps})
		code := cli.Main(ctx, cli.Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
