// Package startheap makes the Go heap cheap for a short slipway process: it
// asks Linux for transparent huge pages on the heap, and keeps the garbage
// collector from running while the package initializers allocate.
//
// Why: most of slipway's start-up was page faults and collections. The one
// binary initializes about 950 packages, which allocate about 13 MiB
// before main runs. On the Firecracker VM CI and the benchmarks run on, a
// first touch of a 4 KiB page costs 25-40 µs: "slipway --version" took
// about 4,400 faults, and decrypting a cosign key file (scrypt, N=2^16: a
// 64 MiB buffer) 16,000 more. And the collector, starting from its 4 MiB
// goal, ran four to five cycles during the initializers: with GOGC=off,
// "slipway --version" used about a third less CPU. scripts/bench, section
// test, prints the faults; TestAdvised and TestNoCollectionAtStart check
// the two effects.
//
// How: its init runs before nearly every other package's (Go initializes
// the ready package first in import-path order, and this one imports only
// runtime and unsafe, so it is ready at once; TestStartheapInitializesFirst
// checks it in the built binary). It allocates
//   - a ballast of Ballast bytes, never touched, kept alive until main
//     calls Done: it counts as live heap, so the collector's goal starts at
//     twice that and the initializers run without a collection;
//   - Reserve bytes, never touched, which make the runtime map that much
//     heap; it advises the 64 MiB heap arenas holding them with
//     madvise(MADV_HUGEPAGE) and collects them at once, free for what the
//     program allocates next. The kernel then backs each 2 MiB of that heap
//     with one huge page on first touch. Heap mapped beyond Reserve keeps
//     4 KiB pages.
//
// Untouched, neither costs memory, only address space. After Done the
// collector paces itself as usual from its next cycle (the first comes
// after about 2×Ballast of allocation). A daemon (slipway serve, slipway
// mcp) calls Undo when it starts: it takes the huge page advice back and
// collects at once, so that its heap is paced and paged as Go's default.
//
// It must never change what the program computes, never fail or slow a
// run: a kernel without transparent huge pages, one set to "never" (the
// administrator's switch: /sys/kernel/mm/transparent_hugepage/enabled), or
// a seccomp filter that refuses madvise leaves the heap as it was, and the
// error is not reported. Where memory is fragmented, the kernel's default
// defrag setting ("madvise") makes a fault in advised memory wait for
// compaction; an administrator who sees such stalls sets
// /sys/kernel/mm/transparent_hugepage/defrag to "defer". GODEBUG=disablethp=1,
// Go's own switch against huge pages on the heap, makes main call Undo. It must never import anything but runtime and
// unsafe: one more import and its init runs after the packages whose
// allocations it is meant to serve. Outside linux/amd64 and linux/arm64 it
// keeps the ballast and advises nothing.
package startheap
