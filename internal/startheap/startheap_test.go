package startheap

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package's init first: an import besides runtime
// and unsafe would make it wait for that package's.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if !slices.Contains([]string{"runtime", "unsafe"}, p) {
				t.Errorf("%s imports %q: startheap may import only runtime and unsafe, or its init no longer runs before the other packages allocate", f, p)
			}
		}
	}
}

// thpMode is the kernel's transparent huge page mode: always, madvise,
// never, or "" without the setting.
func thpMode(t *testing.T) string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	t.Fatalf("cannot read the mode in %q", s)
	return ""
}

// TestAdvised checks, in /proc/self/smaps, that the heap init advised is
// mapped with the huge page advice (VmFlags "hg"), and that it covers
// Reserve bytes of heap; then that Undo turns it into "nh".
func TestAdvised(t *testing.T) {
	if !supported {
		t.Skip("startheap advises nothing on this platform")
	}
	if m := thpMode(t); m == "" || m == "never" {
		t.Skipf("transparent huge pages are %q here", m)
	}
	if errno != 0 && errno != -12 { // ENOMEM: a hole between arenas
		t.Fatalf("madvise answered errno %d", -errno)
	}
	lo, hi := Advised[0], Advised[1]
	if lo == 0 || hi-lo < Reserve {
		t.Fatalf("advised [%#x, %#x): want at least %d bytes", lo, hi, Reserve)
	}
	mapped, flagged := advisedBytes(t, lo, hi, "hg")
	if flagged < Reserve {
		t.Errorf("%d of the %d heap bytes mapped in [%#x, %#x) carry the huge page advice; want at least Reserve (%d)", flagged, mapped, lo, hi, Reserve)
	}
	Undo()
	if _, hg := advisedBytes(t, lo, hi, "hg"); hg != 0 {
		t.Errorf("after Undo, %d bytes in [%#x, %#x) still carry the huge page advice", hg, lo, hi)
	}
	if _, nh := advisedBytes(t, lo, hi, "nh"); nh < Reserve {
		t.Errorf("after Undo, %d bytes in [%#x, %#x) carry the no-huge-page advice; want at least Reserve (%d)", nh, lo, hi, Reserve)
	}
}

// advisedBytes reads /proc/self/smaps: how many bytes of [lo, hi) are
// mapped read-write, and how many of them carry the VmFlags flag.
func advisedBytes(t *testing.T, lo, hi uintptr, flag string) (mapped, flagged uintptr) {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur struct {
		start, end uintptr
		rw         bool
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if a, b, ok := strings.Cut(fields[0], "-"); ok && len(fields) >= 5 {
			s, err1 := strconv.ParseUint(a, 16, 64)
			e, err2 := strconv.ParseUint(b, 16, 64)
			if err1 == nil && err2 == nil {
				cur.start, cur.end, cur.rw = uintptr(s), uintptr(e), strings.HasPrefix(fields[1], "rw")
				continue
			}
		}
		if fields[0] != "VmFlags:" || !cur.rw || cur.end <= lo || cur.start >= hi {
			continue
		}
		n := min(cur.end, hi) - max(cur.start, lo)
		mapped += n
		if slices.Contains(fields[1:], flag) {
			flagged += n
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return mapped, flagged
}
