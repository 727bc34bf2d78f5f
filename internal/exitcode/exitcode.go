package exitcode

import (
	"errors"
	"fmt"
)

// Code is a documented process exit code.
type Code int

const (
	// OK means every check passed and every artifact was written.
	OK Code = 0
	// Failed means the check or the build failed: a command exited non-zero,
	// a signature did not verify, a tag already points at other content.
	Failed Code = 1
	// Usage means bad usage or bad input: a missing or malformed input, a glob
	// that matches nothing, a file that cannot be parsed.
	Usage Code = 2
	// Internal means an internal or infrastructure failure: a registry that is
	// down, a disk that is full, a bug.
	Internal Code = 3
	// NotVerified means slipway exec-verified refused to run the command:
	// the artifact on the node is not the admitted one (its digest differs,
	// its signatures do not verify, its archive is refused). 65 is sysexits'
	// EX_DATAERR.
	NotVerified Code = 65
	// Interrupted means the command was stopped by SIGINT (Ctrl-C): 128 + 2,
	// as shells report it.
	Interrupted Code = 130
	// Terminated means the command was stopped by SIGTERM (a cancelled job,
	// a timeout of the runner): 128 + 15, as shells report it.
	Terminated Code = 143
)

// ForSignal returns the exit code for a process stopped by the signal of
// that number: 128 + the number, as shells report it.
func ForSignal(signo int) Code { return Code(128 + signo) }

// String returns the documented name of the code.
func (c Code) String() string {
	switch c {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Usage:
		return "usage"
	case Internal:
		return "internal"
	case NotVerified:
		return "not-verified"
	case Interrupted:
		return "interrupted"
	case Terminated:
		return "terminated"
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is an error with the exit code it should end the process with and,
// when known, the file it is about (used for `::error file=…::` annotations).
type Error struct {
	Code Code
	File string
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Failure marks err as a failed check or build (exit code 1).
func Failure(err error) error { return wrap(Failed, err) }

// BadInput marks err as bad usage or input (exit code 2).
func BadInput(err error) error { return wrap(Usage, err) }

// Infra marks err as an internal or infrastructure failure (exit code 3).
func Infra(err error) error { return wrap(Internal, err) }

// Failuref, BadInputf and Infraf format a message like fmt.Errorf and mark it.
func Failuref(format string, a ...any) error  { return Failure(fmt.Errorf(format, a...)) }
func BadInputf(format string, a ...any) error { return BadInput(fmt.Errorf(format, a...)) }
func Infraf(format string, a ...any) error    { return Infra(fmt.Errorf(format, a...)) }

// WithFile records the file err is about. It keeps the code err already has
// (Failed when it has none).
func WithFile(err error, file string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, File: file, Err: err}
	}
	return &Error{Code: Failed, File: file, Err: err}
}

func wrap(c Code, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: c, Err: err}
}

// Of returns the exit code for err: OK for nil, the code of the outermost
// *Error in its chain, and Failed for any other error.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}

// FileOf returns the file the error is about, or "".
func FileOf(err error) string {
	var e *Error
	for errors.As(err, &e) {
		if e.File != "" {
			return e.File
		}
		err = e.Err
	}
	return ""
}
