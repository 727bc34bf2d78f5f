package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/slipway/actions/internal/regfile"
)

const (
	// tailBuf is the read size: a file is never read whole into memory.
	tailBuf = 32 << 10
	// maxPartial bounds a held partial line; longer ones are written as
	// they are (a job printing megabytes without a newline).
	maxPartial = 64 << 10
	// tailFast and tailSlow bound how often a log file is looked at: fast
	// right after it grew, backing off while it is idle or missing.
	tailFast = 100 * time.Millisecond
	tailSlow = time.Second
)

// tailer streams one growing file to out, whole lines at a time.
type tailer struct {
	path    string
	out     io.Writer
	f       *os.File
	off     int64
	partial []byte
	buf     []byte
	idle    time.Duration // current wait between looks
	due     time.Time
	err     error // the first write error: streaming stops, following goes on
	done    bool  // finish ran
}

func newTailer(path string, out io.Writer) *tailer {
	return &tailer{path: path, out: out, idle: tailFast}
}

// poll reads what the file gained since the last look; a file that does not
// exist yet is waited for. It backs its next look off while nothing changes.
func (t *tailer) poll(now time.Time) error {
	if t.done || t.err != nil || now.Before(t.due) {
		return nil
	}
	grew, err := t.read()
	if grew {
		t.idle = tailFast
	} else if t.idle = t.idle * 2; t.idle > tailSlow {
		t.idle = tailSlow
	}
	t.due = now.Add(t.idle)
	return err
}

func (t *tailer) read() (bool, error) {
	if t.f == nil {
		f, err := regfile.Open(t.path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			t.err = err
			return false, fmt.Errorf("streaming the job's log: %w", err)
		}
		t.f = f
	}
	if fi, err := t.f.Stat(); err == nil && fi.Size() < t.off { // truncated: start over
		if _, err := t.f.Seek(0, io.SeekStart); err == nil {
			t.off = 0
		}
	}
	if t.buf == nil {
		t.buf = make([]byte, tailBuf)
	}
	grew := false
	for {
		n, err := t.f.Read(t.buf)
		if n > 0 {
			grew = true
			t.off += int64(n)
			if werr := t.emit(t.buf[:n]); werr != nil {
				t.err = werr
				return grew, fmt.Errorf("streaming %q: %w", t.path, werr)
			}
		}
		if err == io.EOF || n == 0 {
			return grew, nil
		}
		if err != nil {
			t.err = err
			return grew, fmt.Errorf("streaming %q: %w", t.path, err)
		}
	}
}

// emit writes the complete lines of held+chunk and holds the rest.
func (t *tailer) emit(chunk []byte) error {
	nl := bytes.LastIndexByte(chunk, '\n')
	if nl < 0 {
		t.partial = append(t.partial, chunk...)
		if len(t.partial) >= maxPartial {
			_, err := t.out.Write(t.partial)
			t.partial = t.partial[:0]
			return err
		}
		return nil
	}
	if len(t.partial) > 0 {
		if _, err := t.out.Write(t.partial); err != nil {
			return err
		}
		t.partial = t.partial[:0]
	}
	if _, err := t.out.Write(chunk[:nl+1]); err != nil {
		return err
	}
	t.partial = append(t.partial, chunk[nl+1:]...)
	return nil
}

// finish reads what is left and writes a held partial line, ending it with
// a newline, then closes the file.
func (t *tailer) finish() error {
	if t.done {
		return nil
	}
	t.done = true
	var err error
	if t.err == nil {
		_, err = t.read()
		if err == nil && len(t.partial) > 0 {
			_, err = t.out.Write(append(t.partial, '\n'))
			t.partial = nil
		}
	}
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	return err
}
