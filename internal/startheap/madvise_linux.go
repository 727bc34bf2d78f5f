//go:build linux && (amd64 || arm64)

package startheap

const supported = true

// madvise is the system call, in assembly (madvise_linux_*.s): package
// syscall would make this package's init wait for syscall's. It answers 0
// or the negated errno.
//
//go:noescape
func madvise(addr, n uintptr, advice int32) int
