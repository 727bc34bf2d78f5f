package tlog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"k8s.io/klog/v2"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of slog.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// RouteTesseraLogs may be called again while klog is in use (run with
// -race): what klog logs goes to the logger given last. Not parallel: it
// points tessera's logs away from the discarding logger of TestMain, and
// back.
func TestRouteTesseraLogs(t *testing.T) {
	defer RouteTesseraLogs(discard)
	var first, second lockedBuffer
	RouteTesseraLogs(slog.New(slog.NewTextHandler(&first, nil)))
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			klog.Info("from tessera")
		}
	})
	RouteTesseraLogs(slog.New(slog.NewTextHandler(&second, nil)))
	wg.Wait()
	klog.InfoS("last", "k", "v")
	if !strings.Contains(second.String(), "last") || strings.Contains(first.String(), "last") {
		t.Fatalf("after the second RouteTesseraLogs, klog went to %q, not %q", first.String(), second.String())
	}
	if !strings.Contains(first.String()+second.String(), "from tessera") {
		t.Fatal("klog's records were lost")
	}
}
