//go:build linux

package execverified

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// CheckStaged opens file, which must lie under the directory root, for the
// in-place mode and checks that no user but this process's (or root) can
// change it or what its name leads to (see openStaged). slipway dispatch
// calls it before it submits, so that a staging area another user could
// write is refused on the headnode already, not only on the node.
func CheckStaged(root, file string) error {
	f, err := openStaged(root, file, os.Geteuid())
	if err != nil {
		return err
	}
	return f.Close()
}

// openStaged opens file read-only for the in-place mode: walking from root
// down, one component at a time through the directory opened before
// (openat, O_NOFOLLOW: no symbolic link below root), it checks with fstat
// that each directory, root included, and the file itself belong to uid or
// root and are writable by neither group nor others, and that the file is a
// regular file with one link. So no other user can have the file open for
// writing, write it, or put something else under its name; what the
// returned descriptor reads is what runs (exec'd through it). Symbolic
// links above root are followed.
func openStaged(root, file string, uid int) (*os.File, error) {
	root, file = filepath.Clean(root), filepath.Clean(file)
	rel, err := filepath.Rel(root, file)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return nil, fmt.Errorf("the staged artifact %q is not under the staging root %q: give --staging-root a directory that holds it", file, root)
	}
	dfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the staging root %q: %w", root, err)
	}
	if err := checkOwned(dfd, root, uid, true); err != nil {
		unix.Close(dfd)
		return nil, err
	}
	parts := strings.Split(rel, "/")
	path := root
	for i, name := range parts {
		path = filepath.Join(path, name)
		last := i == len(parts)-1
		flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if last {
			flags |= unix.O_NONBLOCK // a FIFO must not block the open; it is refused below
		} else {
			flags |= unix.O_DIRECTORY
		}
		fd, err := unix.Openat(dfd, name, flags, 0)
		unix.Close(dfd)
		if errors.Is(err, unix.ELOOP) || (!last && errors.Is(err, unix.ENOTDIR)) {
			return nil, fmt.Errorf("%q is a symbolic link or not a directory: the in-place check follows no link below the staging root %q; stage the release again (slipway dispatch writes plain files and directories)", path, root)
		}
		if err != nil {
			return nil, fmt.Errorf("opening %q: %w", path, err)
		}
		if err := checkOwned(fd, path, uid, !last); err != nil {
			unix.Close(fd)
			return nil, err
		}
		dfd = fd
	}
	if _, err := unix.FcntlInt(uintptr(dfd), unix.F_SETFL, 0); err != nil { // blocking reads again
		unix.Close(dfd)
		return nil, fmt.Errorf("opening %q: %w", file, err)
	}
	return os.NewFile(uintptr(dfd), file), nil
}

// checkOwned checks the open fd (the directory or file path) with fstat.
func checkOwned(fd int, path string, uid int, dir bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("checking %q: %w", path, err)
	}
	kind, fix := "staged artifact", "stage it again (slipway dispatch writes it mode 0644 or 0755)"
	if dir {
		kind, fix = "staging directory", fmt.Sprintf("run chmod go-w %q (slipway dispatch creates it mode 0755)", path)
	}
	switch {
	case dir && st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%q is not a directory", path)
	case !dir && st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("the staged artifact %q is not a regular file; stage it again", path)
	case int(st.Uid) != uid && st.Uid != 0:
		return fmt.Errorf("the %s %q belongs to uid %d, not to this job's user (uid %d) or root: another user could change it; stage the release again as uid %d into a directory of your own", kind, path, st.Uid, uid, uid)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("the %s %q is writable by its group or others (mode %04o): another user could change what runs; %s", kind, path, st.Mode&0o7777, fix)
	case !dir && st.Nlink != 1:
		return fmt.Errorf("the staged artifact %q has %d links (hard links): another name of it may be where someone else can reach it; stage it again as a file of its own (slipway dispatch writes one link)", path, st.Nlink)
	}
	return nil
}

// inheritable returns a descriptor of f for the command to inherit (a
// duplicate, without close-on-exec), at the file's start, and closes f: the
// command, or a #! script's interpreter handed /dev/fd/N, reads the checked
// file from its start.
func inheritable(f *os.File) (int, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return -1, fmt.Errorf("passing the checked file on: %w", err)
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("rewinding the checked file: %w", err)
	}
	return fd, nil
}

// adviseSequential tells the kernel the file is read once, front to back
// (a larger readahead); only a hint.
func adviseSequential(f *os.File) {
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL)
}
