package tlog

import (
	"log/slog"

	"k8s.io/klog/v2"
)

// RouteTesseraLogs sends what tessera logs (through klog, which is
// process-wide: to stderr unless redirected) to logger. A server calls it
// once at start; tessera never logs key material, only paths, sizes and
// errors.
func RouteTesseraLogs(logger *slog.Logger) {
	klog.SetSlogLogger(logger)
}
