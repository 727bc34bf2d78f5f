package tlog

import (
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	RouteTesseraLogs(discard)
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if spec := os.Getenv(awsChildEnv); spec != "" {
		awsChild(spec)
		return
	}
	os.Exit(m.Run())
}

var discard = slog.New(slog.DiscardHandler)
