// Package hugeheap asks Linux for transparent huge pages on the Go heap
// when slipway starts, so that the process takes one page fault per 2 MiB
// of heap it touches instead of 512.
//
// Why: a short slipway process spends most of its time in page faults where
// faults are dear. On the Firecracker VM CI and the benchmarks run on, a
// first touch of a 4 KiB page costs 25-40 µs: "slipway --version" took
// about 4,400 faults (most of its 120 ms start-up), and decrypting a cosign
// key file (scrypt, N=2^16: a 64 MiB buffer) 16,000 more. With this package
// a test stage run takes about 2,600 faults instead of 24,000
// (scripts/bench, section test; TestAdvised checks that the heap is
// advised).
//
// How: its init runs before nearly every other package's (Go initializes
// the ready package first in import-path order, and this one imports only
// runtime and unsafe, so it is ready at once). It allocates Reserve bytes
// it never touches, which makes the runtime map that much heap; advises
// the 64 MiB heap arenas holding them with madvise(MADV_HUGEPAGE); and lets
// the garbage collector free them for what the program allocates next.
// Untouched, they cost address space, not memory. The kernel then backs
// each 2 MiB of that heap with one huge page on first touch. Heap the
// runtime maps beyond Reserve keeps 4 KiB pages. A daemon (slipway serve,
// slipway mcp) calls Undo when it starts: the advice is for short runs.
//
// It must never change what the program computes, never fail or slow a
// run: a kernel without transparent huge pages, one set to "never" (the
// administrator's switch: /sys/kernel/mm/transparent_hugepage/enabled), or
// a seccomp filter that refuses madvise leaves the heap as it was, and the
// error is not reported. It must never import anything but runtime and
// unsafe: one more import and its init runs after the packages whose
// allocations it is meant to serve. Outside linux/amd64 and linux/arm64 it
// does nothing.
package hugeheap
