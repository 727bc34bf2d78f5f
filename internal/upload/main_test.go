package upload

import (
	"log/slog"
	"os"
	"testing"

	"github.com/slipway/actions/internal/tlog"
)

func TestMain(m *testing.M) {
	tlog.RouteTesseraLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
