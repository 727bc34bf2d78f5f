package regfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// NotRegularError says that a path names something other than a regular
// file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%q is %s, not a regular file; give the path of a file", e.Path, Kind(e.Mode))
}

// TooLargeError says that a file is larger than a reader accepts.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%q is larger than the limit of %s", e.Path, FormatSize(e.Limit))
}

// Kind names the type of file that mode describes, for error messages.
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "a regular file"
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a block device"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file (mode " + mode.String() + ")"
}

// Open opens the regular file at path for reading, following symbolic
// links. It returns a *NotRegularError, without blocking, when path is a
// FIFO, a device, a socket or a directory.
func Open(path string) (*os.File, error) {
	f, err := open(path)
	if err != nil {
		var nr *NotRegularError
		if errors.As(err, &nr) {
			return nil, err
		}
		return nil, &OpenError{Path: path, Err: err}
	}
	return f, nil
}

// OpenError is a failed Open. Its message names the path once ("opening
// \"p\": no such file or directory"), not again in the *fs.PathError's
// own "open p: ..."; it unwraps to the underlying error, so errors.Is(err,
// fs.ErrNotExist) and errors.As(err, **fs.PathError) keep working.
type OpenError struct {
	Path string
	Err  error
}

func (e *OpenError) Error() string {
	reason := e.Err
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Path == e.Path {
		reason = pe.Err
	}
	return fmt.Sprintf("opening %q: %v", e.Path, reason)
}

func (e *OpenError) Unwrap() error { return e.Err }

// Check reports a *NotRegularError when path exists and is not a regular
// file (after following symbolic links), and the stat error otherwise.
func Check(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &NotRegularError{Path: path, Mode: fi.Mode()}
	}
	return nil
}

// ReadAll reads the whole regular file at path, refusing (with a
// *TooLargeError) one larger than limit bytes. It reads at most limit+1
// bytes whatever the file claims its size is.
func ReadAll(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	if n > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return b.Bytes(), nil
}

// FormatSize writes n bytes in binary units (64 MiB, 1.5 GiB, 512 B).
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	if n%div == 0 {
		s = fmt.Sprintf("%d", n/div)
	}
	return s + " " + "KMGTP"[exp:exp+1] + "iB"
}

// OpenIn opens the regular file name inside root (a slash-separated path
// relative to it) for reading, following symbolic links only while they
// stay inside root. Like Open, it never blocks on a FIFO and returns a
// *NotRegularError for anything but a regular file; a name that leaves root
// (through "..", an absolute path or a symbolic link) is an error naming
// both.
func OpenIn(root *os.Root, name string) (*os.File, error) {
	f, err := openIn(root, name)
	if err != nil {
		var nr *NotRegularError
		if errors.As(err, &nr) {
			return nil, err
		}
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, fmt.Errorf("%q leaves %q (through \"..\", an absolute path or a symbolic link); only files inside it are read", name, root.Name())
		}
		return nil, fmt.Errorf("opening %q in %q: %w", name, root.Name(), err)
	}
	return f, nil
}
