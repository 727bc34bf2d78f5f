package runas

import "syscall"

// switchTo drops to uid:gid. Since Go 1.16 these calls apply to every thread of the process on Linux (without
// cgo, as slipway is built); the order matters: groups and gid while still root, uid last.
func switchTo(uid, gid int) error {
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return err
	}
	if err := syscall.Setgid(gid); err != nil {
		return err
	}
	return syscall.Setuid(uid)
}
