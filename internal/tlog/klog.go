package tlog

import (
	"log/slog"

	"k8s.io/klog/v2"
)

// RouteTesseraLogs sends what tessera logs (through klog, which is
// process-wide: to stderr unless redirected) to logger. Call it once, before
// the first Open: changing klog's logger while a log runs is a data race.
// Tessera never logs key material, only paths, sizes and errors.
func RouteTesseraLogs(logger *slog.Logger) {
	klog.SetSlogLogger(logger)
}
