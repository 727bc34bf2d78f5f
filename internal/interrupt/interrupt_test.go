package interrupt

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/exitcode"
)

// Real signals to this test process: Notify receives them instead of the
// default action. Not parallel: the signals are process-wide.
func TestNotify(t *testing.T) {
	t.Run("first cancels, second ends at once", func(t *testing.T) {
		var stderr bytes.Buffer
		exited := make(chan int, 1)
		cleaned, hooked := make(chan bool, 1), make(chan bool, 1)
		ctx, stop := Notify(context.Background(), Config{
			Stderr: &stderr, Grace: time.Hour,
			Cleanup: func() { cleaned <- true },
			Exit:    func(code int) { exited <- code },
		})
		defer stop()
		remove := OnForcedExit(func() { hooked <- true })
		defer remove()

		syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		<-ctx.Done()
		sig := Of(ctx)
		if sig == nil || sig.Sig != syscall.SIGTERM || sig.Code() != exitcode.Terminated || sig.Error() != "interrupted by SIGTERM" {
			t.Fatalf("cause %v, want SIGTERM with code %d", context.Cause(ctx), exitcode.Terminated)
		}
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		select {
		case code := <-exited:
			if code != int(exitcode.Interrupted) {
				t.Errorf("exit code %d, want %d (the second signal's)", code, exitcode.Interrupted)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the second signal did not end the process")
		}
		if len(cleaned) != 1 || len(hooked) != 1 {
			t.Error("the cleanup or the forced-exit hook did not run")
		}
		if !strings.Contains(stderr.String(), "slipway: SIGINT again: stopping at once") {
			t.Errorf("stderr %q", stderr.String())
		}
	})
	t.Run("grace runs out", func(t *testing.T) {
		exited := make(chan int, 1)
		var stderr bytes.Buffer
		ctx, stop := Notify(context.Background(), Config{Stderr: &stderr, Grace: 100 * time.Millisecond, Exit: func(code int) { exited <- code }})
		defer stop()
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		<-ctx.Done()
		select {
		case code := <-exited:
			if code != int(exitcode.Interrupted) || !strings.Contains(stderr.String(), "still running 100ms later") {
				t.Errorf("exit %d, stderr %q", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the grace period did not end the process")
		}
	})
	t.Run("stop leaves the context uncancelled by a signal", func(t *testing.T) {
		ctx, stop := Notify(context.Background(), Config{Exit: func(int) { t.Error("exited") }})
		stop()
		if Of(ctx) != nil || !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("after stop: cause %v", context.Cause(ctx))
		}
	})
}
