//go:build linux

package exectrace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Supported reports whether this system can trace executables.
const Supported = true

// traceOptions make the kernel stop a tracee at each exec and attach every
// process and thread it creates, and nothing else.
const traceOptions = unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACECLONE

// Check reports whether this process may trace its children, by starting
// one traced (slipway itself, stopped and killed before it runs a single
// instruction of its own).
func Check() error {
	var err error
	onTracerThread(func() { err = check() })
	return err
}

// Run starts the command traced and waits for it. The error is about
// tracing (not permitted, the command could not start); how the command
// ended is in Result.Status.
func Run(ctx context.Context, c Command) (*Result, error) {
	var (
		res *Result
		err error
	)
	onTracerThread(func() {
		if err = check(); err == nil {
			res, err = run(ctx, c)
		}
	})
	return res, err
}

// onTracerThread runs f on an OS thread of its own that ends with f:
// ptrace ties tracees to the thread that traces them, and a thread that
// goes back to the runtime's pool while something is still traced by it
// (which run's detachAll prevents, but an error path might not) would hold
// those tracees; an ended thread makes the kernel detach them. The Go
// runtime ends a locked thread whose goroutine exits, except the process's
// main thread, which it parks: f never runs there.
func onTracerThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked below: the thread ends with this goroutine
		if unix.Gettid() == unix.Getpid() {
			// The main thread, locked to this goroutine, cannot run the one
			// onTracerThread starts: that one gets a thread of its own.
			onTracerThread(f)
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
	<-done
}

func check() error {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return fmt.Errorf("tracing executables needs /proc (it reads /proc/PID/exe): %w", err)
	}
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"slipway-ptrace-check"}, &syscall.ProcAttr{
		Env: []string{}, Sys: &syscall.SysProcAttr{Ptrace: true},
	})
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENOSYS) {
			return fmt.Errorf("%w (%v)%s", ErrNotPermitted, err, scopeHint())
		}
		return fmt.Errorf("starting a traced process: %w", err)
	}
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err != syscall.EINTR {
			break
		}
	}
	_ = unix.Kill(pid, unix.SIGKILL)
	if err == nil && ws.Stopped() {
		for {
			if _, err := unix.Wait4(pid, nil, unix.WALL|unix.WNOTHREAD, nil); err != syscall.EINTR {
				break
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("waiting for a traced process: %w", err)
	}
	// The child ran untraced to its end: the kernel did not stop it.
	return fmt.Errorf("%w (a traced child did not stop at its exec)%s", ErrNotPermitted, scopeHint())
}

// scopeHint names the Yama ptrace scope when it forbids tracing.
func scopeHint() string {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if s := strings.TrimSpace(string(b)); err == nil && (s == "2" || s == "3") {
		return fmt.Sprintf("; kernel.yama.ptrace_scope is %s", s)
	}
	return ""
}

func run(ctx context.Context, c Command) (*Result, error) {
	files := []uintptr{c.Stdin.Fd(), c.Stdout.Fd(), c.Stderr.Fd()}
	pid, err := syscall.ForkExec(c.Path, c.Args, &syscall.ProcAttr{
		Dir: c.Dir, Env: c.Env, Files: files,
		Sys: &syscall.SysProcAttr{Setpgid: true, Ptrace: true},
	})
	runtime.KeepAlive(c.Stdin)
	runtime.KeepAlive(c.Stdout)
	runtime.KeepAlive(c.Stderr)
	if err != nil {
		return nil, fmt.Errorf("starting %s traced: %w", c.Path, err)
	}
	done := make(chan struct{})
	defer close(done)
	go stopOnCancel(ctx, pid, c.Grace, done)

	t := &tracer{main: pid, execs: execSet{}, known: map[int]bool{pid: true}, pending: map[int]bool{}, digests: newDigestCache()}
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			_ = unix.Kill(-pid, unix.SIGKILL)
			return nil, fmt.Errorf("waiting for the traced command: %w", err)
		}
		if t.event(wpid, ws) {
			break
		}
	}
	t.detachAll()
	return &Result{Execs: t.execs.sorted(), Unreadable: t.unreadable, Status: syscall.WaitStatus(t.status)}, nil
}

// stopOnCancel sends SIGTERM to the command's process group when ctx ends,
// and SIGKILL grace later.
func stopOnCancel(ctx context.Context, pgid int, grace time.Duration, done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	_ = unix.Kill(-pgid, unix.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		_ = unix.Kill(-pgid, unix.SIGKILL)
	}
}

// tracer follows one command's process tree.
type tracer struct {
	main    int
	started bool // the main process's first exec was seen
	status  unix.WaitStatus
	// known are the live tracees; pending those whose first stop, the
	// SIGSTOP of an automatic attach, has not been seen yet.
	known, pending map[int]bool
	execs          execSet
	unreadable     []string
	digests        *digestCache
}

// event handles one wait status and resumes a stopped tracee. It reports
// whether the main process has ended.
func (t *tracer) event(pid int, ws unix.WaitStatus) bool {
	if ws.Exited() || ws.Signaled() {
		delete(t.known, pid)
		delete(t.pending, pid)
		if pid == t.main {
			t.status = ws
			return true
		}
		return false
	}
	if !ws.Stopped() {
		return false
	}
	sig := ws.StopSignal()
	inject := 0
	switch {
	case pid == t.main && !t.started && sig == unix.SIGTRAP:
		// The stop PTRACE_TRACEME makes after the command's own exec.
		t.started = true
		if err := unix.PtraceSetOptions(pid, traceOptions); err != nil {
			// Without the options the tree would run untraced: stop it.
			_ = unix.Kill(-pid, unix.SIGKILL)
			t.unreadable = append(t.unreadable, fmt.Sprintf("(setting ptrace options failed: %v)", err))
		}
		t.exec(pid)
	case !t.known[pid]:
		// A new process or thread whose creation event is still to come:
		// its first stop is the SIGSTOP of its automatic attach.
		t.known[pid] = true
		if sig != unix.SIGSTOP {
			inject = int(sig)
		}
	case t.pending[pid] && sig == unix.SIGSTOP:
		delete(t.pending, pid)
	case sig == unix.SIGTRAP && ws.TrapCause() == unix.PTRACE_EVENT_EXEC:
		t.exec(pid)
	case sig == unix.SIGTRAP && (ws.TrapCause() == unix.PTRACE_EVENT_FORK || ws.TrapCause() == unix.PTRACE_EVENT_VFORK || ws.TrapCause() == unix.PTRACE_EVENT_CLONE):
		if msg, err := unix.PtraceGetEventMsg(pid); err == nil && !t.known[int(msg)] {
			t.known[int(msg)], t.pending[int(msg)] = true, true
		}
	default:
		// A signal for the process: deliver it as sent.
		inject = int(sig)
	}
	if err := unix.PtraceCont(pid, inject); err != nil && err != syscall.ESRCH {
		// It cannot be left stopped; it is gone or no longer ours.
		delete(t.known, pid)
	}
	return false
}

// detachAll detaches the processes the command left running when it ended,
// recording what they run until then. Each is first brought to a stop of
// its own: a SIGSTOP sent to each thread, or, for a process created since
// the last look, the SIGSTOP of its automatic attach; detaching at that
// stop suppresses the signal. A tracee merely dropped (the tracer thread
// ending) would keep a queued attach SIGSTOP and stop for good once
// untraced.
func (t *tracer) detachAll() {
	stopping := map[int]bool{}
	for tid := range t.known {
		if t.pending[tid] {
			continue // its attach SIGSTOP is queued
		}
		if tgid, err := tgidOf(tid); err == nil && unix.Tgkill(tgid, tid, unix.SIGSTOP) == nil {
			stopping[tid] = true
		} else {
			delete(t.known, tid) // gone
		}
	}
	for len(t.known) > 0 {
		var ws unix.WaitStatus
		tid, err := unix.Wait4(-1, &ws, unix.WALL|unix.WNOTHREAD, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return // no tracee is left (ECHILD)
		}
		switch {
		case ws.Exited() || ws.Signaled():
		case ws.Stopped() && ws.StopSignal() == unix.SIGSTOP && (stopping[tid] || t.pending[tid] || !t.known[tid]):
			_ = unix.PtraceDetach(tid) // signal 0: the SIGSTOP is not delivered
		default:
			// An exec, a fork (its child becomes pending) or another
			// signal, before the SIGSTOP: handled as while running.
			known := t.known[tid]
			t.event(tid, ws)
			if !known && t.known[tid] {
				t.pending[tid] = true // its attach SIGSTOP is still queued
			}
			continue
		}
		delete(t.known, tid)
		delete(t.pending, tid)
		delete(stopping, tid)
	}
}

// tgidOf reads the thread group (process) of a thread.
func tgidOf(tid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("no Tgid in /proc/%d/status", tid)
}

// exec records the executable a process is stopped at the exec of.
func (t *tracer) exec(pid int) {
	e, err := t.digests.exe(pid)
	if err != nil {
		t.unreadable = append(t.unreadable, err.Error())
		return
	}
	t.execs.add(e)
}
