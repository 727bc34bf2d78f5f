//go:build linux

package execverified

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// memFile returns an anonymous in-memory file (memfd) that can be sealed:
// nobody else can open it by a name, and once sealed nobody can change it.
func memFile(name string) (*os.File, error) {
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	// MFD_EXEC (Linux 6.3+) keeps it executable where vm.memfd_noexec would
	// make new memfds non-executable; older kernels refuse the flag.
	fd, err := unix.MemfdCreate(name, flags|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate(name, flags)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	return os.NewFile(uintptr(fd), "memfd:"+name), nil
}

// sealReadOnly seals f against any change and returns a read-only
// descriptor of it for the command to inherit (no close-on-exec): an
// executable cannot be exec'd while a writable descriptor of it is open.
// f itself is closed.
func sealReadOnly(f *os.File) (int, error) {
	defer f.Close()
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return -1, fmt.Errorf("sealing the checked copy: %w", err)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.O_RDONLY, 0)
	if err != nil {
		return -1, fmt.Errorf("reopening the checked copy read-only: %w", err)
	}
	return fd, nil
}
