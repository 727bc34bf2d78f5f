//go:build !linux

package exectrace

import (
	"context"
	"fmt"
	"runtime"
)

// Supported reports whether this system can trace executables.
const Supported = false

// Check reports that tracing needs Linux.
func Check() error {
	return fmt.Errorf("%w (this is %s)", ErrUnsupported, runtime.GOOS)
}

// Run reports that tracing needs Linux.
func Run(context.Context, Command) (*Result, error) { return nil, Check() }
