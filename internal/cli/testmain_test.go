package cli

import (
	"context"
	"os"
	"testing"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/interrupt"
)

// asSlipwayEnv makes the test binary run as slipway itself, with
// cmd/slipway's signal handling: the Slurm tests' jobs run it as "slipway
// exec-verified" on the node (through slipwayOnNodes), as they would run the
// installed binary, and TestDispatchCancelled sends it SIGTERM.
const asSlipwayEnv = "SLIPWAY_CLI_TEST_AS_SLIPWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asSlipwayEnv) == "1" {
		ctx, stop := interrupt.Notify(context.Background(), interrupt.Config{Stderr: os.Stderr, Cleanup: atomicfile.RemoveTemps})
		code := Main(ctx, Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
