package hugeheap

import (
	"runtime"
	"unsafe"
)

// Reserve is how much heap init advises: room for start-up (about 13 MiB
// allocated by the package initializers), a cosign key's scrypt buffer
// (64 MiB) and a stage's own work.
const Reserve = 128 << 20

const (
	// arenaBytes is the runtime's heap arena size on 64-bit Linux
	// (heapArenaBytes): the heap is mapped within arenas of this size
	// and alignment.
	arenaBytes = 64 << 20
	// madvHugepage and madvNohugepage are MADV_HUGEPAGE and
	// MADV_NOHUGEPAGE.
	madvHugepage   = 14
	madvNohugepage = 15
)

// Advised is the heap range init advised, [Advised[0], Advised[1]); zero
// where the platform has no madvise here.
var Advised [2]uintptr

// errno is what madvise answered (0, or the negated errno).
var errno int

func init() {
	if !supported {
		return
	}
	Advised[0], Advised[1], errno = advise(Reserve)
}

// Undo takes the advice back, for a process that runs for long (slipway
// serve): the kernel's khugepaged would otherwise make a huge page again of
// every advised 2 MiB stretch that the runtime gave back to the kernel but
// for one page, and the process would hold up to Reserve more memory than
// its heap needs. Huge pages already made stay until the runtime gives
// their memory back.
func Undo() {
	if Advised[1] > Advised[0] {
		madvise(Advised[0], Advised[1]-Advised[0], madvNohugepage)
	}
}

// keep makes the runtime allocate b on the heap.
var keep []byte

// advise allocates n bytes, untouched, advises the arenas that hold them
// and the heap allocated so far, and frees them.
func advise(n int) (lo, hi uintptr, errno int) {
	small := new(uintptr) // an address in the heap so far
	keep = make([]byte, n)
	lo, hi = uintptr(unsafe.Pointer(small)), uintptr(unsafe.Pointer(small))+unsafe.Sizeof(*small)
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(keep))); p < lo {
		lo = p
	}
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(keep))) + uintptr(n); p > hi {
		hi = p
	}
	lo &^= arenaBytes - 1
	hi = (hi + arenaBytes - 1) &^ (arenaBytes - 1)
	// A hole between arenas makes madvise answer ENOMEM after it advised
	// the mapped parts.
	errno = madvise(lo, hi-lo, madvHugepage)
	keep = nil
	runtime.GC()
	return lo, hi, errno
}
