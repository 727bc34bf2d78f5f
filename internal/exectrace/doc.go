// Package exectrace runs a command under ptrace(2) and records every
// executable its process tree ran: each successful execve, by the file the
// kernel mapped (read through /proc/PID/exe while the process is stopped
// at the exec, so a file replaced or renamed later is not mistaken for it),
// with that file's SHA-256.
//
// The tracer stops a process only at exec, fork, vfork and clone events
// and at signals (PTRACE_O_TRACEEXEC, TRACEFORK, TRACEVFORK, TRACECLONE,
// resumed with PTRACE_CONT): never at every system call, so a traced build
// runs at nearly its own speed. It runs on one locked OS thread, as ptrace
// requires. When the command ends, whatever it left running is brought to
// a stop and detached (the stop's SIGSTOP suppressed), and runs on
// untraced; the thread then ends.
//
// It is Linux only (Supported reports it), and it needs ptrace to be
// permitted: a container without CAP_SYS_PTRACE under a seccomp profile that
// refuses ptrace, or kernel.yama.ptrace_scope 2 or 3, forbids it; Check and
// Run then return an error wrapping ErrNotPermitted.
//
// It must never change what the command does (every signal is delivered as
// sent), never leave a process stopped, and never read a traced process's
// memory or arguments: only /proc/PID/exe.
package exectrace
