//go:build !linux

package execverified

import (
	"errors"
	"os"
)

var errNoInPlace = errors.New("the in-place mode needs Linux (openat, /dev/fd); use --copy DIR")

// CheckStaged needs Linux; elsewhere it refuses.
func CheckStaged(root, file string) error { return errNoInPlace }

func openStaged(string, string, int) (*os.File, error) { return nil, errNoInPlace }

func inheritable(*os.File) (int, error) { return -1, errNoInPlace }

func adviseSequential(*os.File) {}
