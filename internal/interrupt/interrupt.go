package interrupt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/slipway/actions/internal/exitcode"
)

// DefaultGrace is how long a command may take to stop after the first
// signal before the process ends anyway: longer than a build command gets
// between SIGTERM and SIGKILL (10 s), so that the build can stop it.
const DefaultGrace = 15 * time.Second

// hooks run when the process is ended at once.
var hooks struct {
	sync.Mutex
	next int
	m    map[int]func()
}

// OnForcedExit registers f to run when the process is ended at once (a
// second signal, or a command still running at the end of the grace
// period), such as killing a child process group; remove unregisters it.
func OnForcedExit(f func()) (remove func()) {
	hooks.Lock()
	defer hooks.Unlock()
	if hooks.m == nil {
		hooks.m = map[int]func(){}
	}
	id := hooks.next
	hooks.next++
	hooks.m[id] = f
	return func() {
		hooks.Lock()
		defer hooks.Unlock()
		delete(hooks.m, id)
	}
}

// Signal is the cause of a context cancelled by a signal.
type Signal struct {
	Sig syscall.Signal
}

func (s *Signal) Error() string { return "interrupted by " + Name(s.Sig) }

// Code is the exit code for the signal: 128 + its number.
func (s *Signal) Code() exitcode.Code { return exitcode.ForSignal(int(s.Sig)) }

// Name is the signal's conventional name (SIGINT, SIGTERM).
func Name(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// Of returns the signal that cancelled ctx, or nil.
func Of(ctx context.Context) *Signal {
	var s *Signal
	if errors.As(context.Cause(ctx), &s) {
		return s
	}
	return nil
}

// Config says how the process ends when a command does not stop.
type Config struct {
	// Stderr receives the message of a forced exit.
	Stderr io.Writer
	// Grace is how long after the first signal the process may still run;
	// zero means DefaultGrace.
	Grace time.Duration
	// Cleanup runs before a forced exit (removing temporary files); nil
	// does nothing.
	Cleanup func()
	// Exit ends the process; nil means os.Exit.
	Exit func(code int)
}

// Notify returns a context cancelled, with a *Signal cause, by the first
// SIGINT or SIGTERM. A second signal, or the grace period running out,
// ends the process through c.Exit. stop releases the signals (call it when
// the command has returned).
func Notify(parent context.Context, c Config) (ctx context.Context, stop func()) {
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
	if c.Exit == nil {
		c.Exit = os.Exit
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *Signal
		var grace <-chan time.Time
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				sig, _ := s.(syscall.Signal)
				if first == nil {
					first = &Signal{Sig: sig}
					cancel(first)
					t := time.NewTimer(c.Grace)
					defer t.Stop()
					grace = t.C
					continue
				}
				c.force(fmt.Sprintf("slipway: %s again: stopping at once", Name(sig)), (&Signal{Sig: sig}).Code())
				return
			case <-grace:
				c.force(fmt.Sprintf("slipway: %s: still running %s later: stopping at once", Name(first.Sig), c.Grace), first.Code())
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

func (c Config) force(msg string, code exitcode.Code) {
	if c.Cleanup != nil {
		c.Cleanup()
	}
	hooks.Lock()
	for _, f := range hooks.m {
		f()
	}
	hooks.Unlock()
	fmt.Fprintf(c.Stderr, "%s; temporary files were removed, files already complete were kept\n", msg)
	c.Exit(int(code))
}
