package server_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/slipway/actions/internal/tlog"
)

func TestMain(m *testing.M) {
	// tessera logs through klog, process-wide; keep test output readable.
	tlog.RouteTesseraLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
