package cli

import (
	"context"
	"os"
	"testing"
)

// asSlipwayEnv makes the test binary run as slipway itself: the Slurm
// tests' jobs run it as "slipway exec-verified" on the node (through
// slipwayOnNodes), as they would run the installed binary.
const asSlipwayEnv = "SLIPWAY_CLI_TEST_AS_SLIPWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asSlipwayEnv) == "1" {
		os.Exit(Main(context.Background(), Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd}))
	}
	os.Exit(m.Run())
}
