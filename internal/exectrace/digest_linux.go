//go:build linux

package exectrace

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/slipway/actions/internal/digest"
)

// digestCache digests each executable file once per content: a build runs
// the same compiler hundreds of times.
type digestCache struct {
	m map[fileID]Exec
}

// fileID identifies a file's content as far as the kernel tells: a write
// changes its ctime, a replacement its inode.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime unix.Timespec
}

func newDigestCache() *digestCache { return &digestCache{m: map[fileID]Exec{}} }

// exe digests the file process pid is running, through /proc/PID/exe: the
// very file the kernel mapped, whatever happened to its name since.
func (c *digestCache) exe(pid int) (Exec, error) {
	link := fmt.Sprintf("/proc/%d/exe", pid)
	path, err := os.Readlink(link)
	if err != nil {
		return Exec{}, fmt.Errorf("process %d: reading %s: %v", pid, link, err)
	}
	f, err := os.Open(link)
	if err != nil {
		return Exec{}, fmt.Errorf("%s (process %d): %v", path, pid, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return Exec{}, fmt.Errorf("%s (process %d): %v", path, pid, err)
	}
	id := fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
	if e, ok := c.m[id]; ok {
		e.Path = path
		return e, nil
	}
	d, n, err := digest.Copy(io.Discard, f)
	if err != nil {
		return Exec{}, fmt.Errorf("%s (process %d): reading it: %v", path, pid, err)
	}
	e := Exec{Path: path, Digest: d, Size: n}
	c.m[id] = e
	return e, nil
}
