package startheap

import (
	"runtime"
	"unsafe"
)

const (
	// Ballast is the untouched allocation that keeps the collector's goal
	// above what the initializers allocate (about 13 MiB) until Done.
	Ballast = 64 << 20
	// Reserve is how much heap init advises: room for start-up, a cosign
	// key's scrypt buffer (64 MiB) and a stage's own work.
	Reserve = 128 << 20
)

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

// ballast and reserve hold the untouched allocations; a package variable
// makes the runtime allocate them on the heap.
var ballast, reserve []byte

func init() {
	ballast = make([]byte, Ballast)
	if supported {
		Advised[0], Advised[1], errno = advise(Reserve)
	}
}

// Done lets the collector have the ballast: main calls it when the
// initializers have run.
func Done() { ballast = nil }

// Undo takes the huge page advice back and collects, for a process that
// runs for long (slipway serve, slipway mcp): the kernel's khugepaged would
// otherwise make a huge page again of every advised 2 MiB stretch that the
// runtime gave back to the kernel but for one page, and the process would
// hold up to Reserve more memory than its heap needs; and the collection
// sets the collector's goal from the live heap instead of the ballast's.
// Huge pages already made stay until the runtime gives their memory back.
func Undo() {
	Done()
	if Advised[1] > Advised[0] {
		madvise(Advised[0], Advised[1]-Advised[0], madvNohugepage)
	}
	runtime.GC()
}

// advise allocates n bytes, untouched, advises the arenas that hold them
// and the heap allocated so far, and collects them.
func advise(n int) (lo, hi uintptr, errno int) {
	small := new(uintptr) // an address in the heap so far
	reserve = make([]byte, n)
	lo, hi = uintptr(unsafe.Pointer(small)), uintptr(unsafe.Pointer(small))+unsafe.Sizeof(*small)
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(reserve))); p < lo {
		lo = p
	}
	if p := uintptr(unsafe.Pointer(unsafe.SliceData(reserve))) + uintptr(n); p > hi {
		hi = p
	}
	lo &^= arenaBytes - 1
	hi = (hi + arenaBytes - 1) &^ (arenaBytes - 1)
	// A hole between arenas makes madvise answer ENOMEM after it advised
	// the mapped parts.
	errno = madvise(lo, hi-lo, madvHugepage)
	reserve = nil
	runtime.GC()
	return lo, hi, errno
}
