package server

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f at off to
// disk, without waiting: an upload's bytes go to disk while the rest
// arrives, so that the fsync when the upload completes finds little left
// to write (a 2 GiB upload left all of it dirty for that fsync otherwise:
// the kernel starts writeback only at 10% of memory). An error is ignored:
// the fsync that makes the blob durable still follows.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
