//go:build !linux

package execverified

import (
	"errors"
	"os"
)

var errNoMemfd = errors.New("an in-memory sealed copy needs Linux (memfd); use --copy DIR")

func memFile(string) (*os.File, error) { return nil, errNoMemfd }

func sealReadOnly(*os.File) (int, error) { return -1, errNoMemfd }
