package server_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/tlog"
)

// asSlipwayEnv makes the test binary run as slipway itself: the Slurm
// tests' jobs run it as "slipway exec-verified" on the node, as they would
// run the installed binary.
const asSlipwayEnv = "SLIPWAY_SERVER_TEST_AS_SLIPWAY"

func TestMain(m *testing.M) {
	if os.Getenv(asSlipwayEnv) == "1" {
		os.Exit(cli.Main(context.Background(), cli.Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Getwd: os.Getwd}))
	}
	// tessera logs through klog, process-wide; keep test output readable.
	tlog.RouteTesseraLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
