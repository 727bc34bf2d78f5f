// Command diskpass is scripts/bench's reference for "what the disk allows":
// it writes SIZE bytes to a new file PATH through an 8 MiB buffer (filled
// once with random bytes, so that no input is read), asking the kernel to
// start writing each buffer out as slipway serve does for an upload
// (sync_file_range on Linux, no waiting), fsyncs the file and its
// directory once, and removes the file. Timed beside an upload into a
// slipway serve whose data directory is on the same filesystem, it is the
// ceiling of the upload's write and fsync: the upload cannot be faster
// than the disk it ends on. It is a measuring tool, not part of slipway,
// and must never do more than that one write pass.
//
//	diskpass PATH SIZE
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

const bufSize = 8 << 20

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: diskpass PATH SIZE-IN-BYTES")
		os.Exit(2)
	}
	size, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil || size <= 0 {
		fmt.Fprintf(os.Stderr, "diskpass: size %q is not a positive number of bytes\n", os.Args[2])
		os.Exit(2)
	}
	if err := pass(os.Args[1], size); err != nil {
		fmt.Fprintf(os.Stderr, "diskpass: %v\n", err)
		os.Exit(1)
	}
}

// pass writes size bytes to path, fsyncs it and its directory, and
// removes it again.
func pass(path string, size int64) (err error) {
	buf := make([]byte, bufSize)
	rand.Read(buf)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		if rerr := os.Remove(path); err == nil && rerr != nil {
			err = rerr
		}
	}()
	for off := int64(0); off < size; {
		n := min(size-off, int64(len(buf)))
		if _, err := f.Write(buf[:n]); err != nil {
			return fmt.Errorf("writing %q: %w", path, err)
		}
		startWriteback(f, off, n)
		off += n
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing the directory of %q: %w", path, err)
	}
	return nil
}
