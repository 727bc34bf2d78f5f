// Package noptrace runs a test in a child process where ptrace(2) fails
// with EPERM, as it does in a container whose seccomp profile refuses it:
// a real refusal by the kernel, for the tests of what slipway says then.
//
// It must never be used outside tests, and never in the test process
// itself: a seccomp filter cannot be removed.
package noptrace
