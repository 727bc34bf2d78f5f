package tlog

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"k8s.io/klog/v2"
)

var (
	routeOnce sync.Once
	routed    atomic.Pointer[slog.Logger]
)

// RouteTesseraLogs sends what tessera logs (through klog, which is
// process-wide: to stderr unless redirected) to logger. klog is pointed at
// a forwarder once, on the first call; later calls only swap where the
// forwarder sends, atomically, so that calling it again while a log runs
// (several servers in one process, as tests start them) is safe. Tessera
// never logs key material, only paths, sizes and errors.
func RouteTesseraLogs(logger *slog.Logger) {
	routed.Store(logger)
	routeOnce.Do(func() { klog.SetSlogLogger(slog.New(forwarder{})) })
}

// forwarder is a slog.Handler handing each record to the logger last given
// to RouteTesseraLogs, with the attributes and groups klog added.
type forwarder struct {
	with []func(slog.Handler) slog.Handler
}

func (f forwarder) target() slog.Handler {
	h := routed.Load().Handler()
	for _, w := range f.with {
		h = w(h)
	}
	return h
}

func (f forwarder) Enabled(ctx context.Context, level slog.Level) bool {
	return routed.Load().Handler().Enabled(ctx, level)
}

func (f forwarder) Handle(ctx context.Context, r slog.Record) error { return f.target().Handle(ctx, r) }

func (f forwarder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return forwarder{append(slices.Clip(f.with), func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })}
}

func (f forwarder) WithGroup(name string) slog.Handler {
	return forwarder{append(slices.Clip(f.with), func(h slog.Handler) slog.Handler { return h.WithGroup(name) })}
}
