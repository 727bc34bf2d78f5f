package sbom

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/slipway/actions/internal/regfile"
)

// elfObject is what the dynamic loader reads of an ELF file: its class and
// machine (a library of another class or machine is skipped), its program
// interpreter, the libraries it needs and where it says to look for them.
type elfObject struct {
	class   elf.Class
	machine elf.Machine
	interp  string   // PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2
	needed  []string // DT_NEEDED, in order
	rpath   []string // DT_RPATH entries (ignored by the loader when DT_RUNPATH is set)
	runpath []string // DT_RUNPATH entries
}

// Limits on what an ELF file may make this package do: an artifact is
// outside input, and these are far above any real binary's.
const (
	maxNeeded     = 1024      // DT_NEEDED entries of one object
	maxSearchDirs = 256       // RPATH/RUNPATH entries of one object
	maxInterpLen  = 4096      // bytes of PT_INTERP
	maxLibraries  = 4096      // libraries resolved for one subject
	maxDynamicLen = 256 << 20 // bytes of the dynamic section and its strings
)

// errNotELF says that a file does not start with the ELF magic.
var errNotELF = errors.New("not an ELF file")

// isELF reports whether r starts with the ELF magic.
func isELF(r io.ReaderAt) bool {
	var magic [4]byte
	n, _ := r.ReadAt(magic[:], 0)
	return n == 4 && string(magic[:]) == elf.ELFMAG
}

// readELFFile reads the dynamic-loading view of the ELF file at path.
func readELFFile(path string) (*elfObject, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readELF(f)
}

// readELF reads the dynamic-loading view of an ELF file. debug/elf is not
// hardened against hostile input (it has panicked on crafted files), so a
// panic is turned into an error: a broken artifact never stops the stage.
func readELF(r io.ReaderAt) (obj *elfObject, err error) {
	if !isELF(r) {
		return nil, errNotELF
	}
	defer func() {
		if p := recover(); p != nil {
			obj, err = nil, fmt.Errorf("malformed ELF file (debug/elf: %v)", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	obj = &elfObject{class: f.Class, machine: f.Machine}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		if p.Filesz > maxInterpLen {
			return nil, fmt.Errorf("PT_INTERP is %d bytes, more than %d", p.Filesz, maxInterpLen)
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading PT_INTERP: %w", err)
		}
		obj.interp = strings.TrimRight(string(b), "\x00")
	}
	if ds := f.SectionByType(elf.SHT_DYNAMIC); ds == nil || ds.Size > maxDynamicLen {
		return obj, nil // static, or no section headers to find the dynamic section by
	}
	if obj.needed, err = dynStrings(f, elf.DT_NEEDED, maxNeeded); err != nil {
		return nil, err
	}
	if obj.rpath, err = dynPathList(f, elf.DT_RPATH); err != nil {
		return nil, err
	}
	if obj.runpath, err = dynPathList(f, elf.DT_RUNPATH); err != nil {
		return nil, err
	}
	return obj, nil
}

func dynStrings(f *elf.File, tag elf.DynTag, limit int) ([]string, error) {
	v, err := f.DynString(tag)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", tag, err)
	}
	if len(v) > limit {
		return nil, fmt.Errorf("%d %s entries, more than %d", len(v), tag, limit)
	}
	return v, nil
}

// dynPathList splits the colon-separated DT_RPATH or DT_RUNPATH strings.
func dynPathList(f *elf.File, tag elf.DynTag) ([]string, error) {
	v, err := dynStrings(f, tag, maxSearchDirs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range v {
		for _, d := range strings.Split(s, ":") {
			if d != "" {
				out = append(out, d)
			}
		}
	}
	if len(out) > maxSearchDirs {
		return nil, fmt.Errorf("%d %s directories, more than %d", len(out), tag, maxSearchDirs)
	}
	return out, nil
}
