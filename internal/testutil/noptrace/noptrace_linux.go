//go:build linux

package noptrace

import (
	"os"
	"os/exec"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const childEnv = "SLIPWAY_TEST_NO_PTRACE"

// Run runs the calling test again in a child process that cannot use
// ptrace, and reports whether this is that child (which then goes on with
// the test). In the parent it fails the test when the child's run failed
// and returns false.
func Run(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		if err := deny(); err != nil {
			t.Fatalf("installing the seccomp filter that refuses ptrace: %v", err)
		}
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test without ptrace failed: %v\n%s", err, out)
	}
	return false
}

// deny makes ptrace fail with EPERM on every thread of this process and
// its children.
func deny() error {
	filter := []unix.SockFilter{
		// A = the system call number.
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_PTRACE},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return errno
	}
	return nil
}
