package exectrace

import (
	"cmp"
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/slipway/actions/internal/digest"
)

// ErrNotPermitted is wrapped by the error of Check and Run when the kernel
// refuses to trace.
var ErrNotPermitted = errors.New("ptrace is not permitted here")

// ErrUnsupported is wrapped by the error of Check and Run on systems other
// than Linux.
var ErrUnsupported = errors.New("tracing executables needs Linux")

// Exec is one executable file the command ran.
type Exec struct {
	// Path is where the kernel found the file (the target of
	// /proc/PID/exe), with symbolic links resolved.
	Path string
	// Digest and Size describe the file's content when it ran.
	Digest digest.SHA256
	Size   int64
	// Runs counts the processes that ran this file with this content.
	Runs int
}

// Command is what Run starts.
type Command struct {
	// Path is the absolute path of the program; Args its argv, Args[0]
	// included.
	Path string
	Args []string
	// Dir is the working directory; Env the whole environment.
	Dir string
	Env []string
	// Stdin, Stdout and Stderr are the command's standard files.
	Stdin, Stdout, Stderr *os.File
	// Grace is how long the process group gets between SIGTERM and SIGKILL
	// when Run's context is cancelled.
	Grace time.Duration
}

// Result is what a traced run gives.
type Result struct {
	// Execs are the executables run, sorted by path and digest.
	Execs []Exec
	// Unreadable says, one line each, which executables ran but could not
	// be read (a process gone before it could be looked at): the trace is
	// incomplete by these.
	Unreadable []string
	// Status is the command's wait status: how it exited.
	Status syscall.WaitStatus
}

// execSet collects executables by path and content.
type execSet map[execKey]*Exec

type execKey struct {
	path   string
	digest digest.SHA256
}

func (s execSet) add(e Exec) {
	k := execKey{e.Path, e.Digest}
	if old, ok := s[k]; ok {
		old.Runs++
		return
	}
	e.Runs = 1
	s[k] = &e
}

func (s execSet) sorted() []Exec {
	out := make([]Exec, 0, len(s))
	for _, e := range s {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Exec) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Digest.Hex(), b.Digest.Hex()))
	})
	return out
}
