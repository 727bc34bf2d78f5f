package sbom

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// loader resolves the libraries an ELF object needs as glibc's dynamic
// loader (ld.so(8)) would on this host, for an object of one class and
// machine:
//
//  1. a name with a slash is a path;
//  2. DT_RPATH of the object, then of the objects that loaded it up to the
//     executable, unless the object has DT_RUNPATH;
//  3. (LD_LIBRARY_PATH is never used: see docs/sbom.md)
//  4. DT_RUNPATH of the object itself;
//  5. the directories of /etc/ld.so.conf (what ldconfig puts in
//     /etc/ld.so.cache), with its include lines;
//  6. the default directories: the multiarch ones, then /lib64, /usr/lib64
//     (64-bit), /lib, /usr/lib.
//
// $ORIGIN (and ${ORIGIN}) in RPATH/RUNPATH is the directory of the object
// that names it; a directory with another token ($LIB, $PLATFORM) is
// skipped. A candidate that is not an ELF file of the same class and
// machine is skipped, as the loader skips it. A library is loaded once per
// name (DT_NEEDED string), in breadth-first order, as the loader does.
type loader struct {
	root       string // the file system's root ("/"): every path is looked up below it
	class      elf.Class
	machine    elf.Machine
	systemDirs []string // 5 and 6, in order
}

// library is one library the subject needs, directly or not.
type library struct {
	// Name is the DT_NEEDED string (or the PT_INTERP path).
	Name string
	// Path is where the loader would find it (a path on the host), empty
	// when it is not found; Real is Path with symbolic links resolved.
	Path, Real string
	// NeededBy names the objects that need it: "" for the subject itself,
	// else the Name of a library.
	NeededBy []string
	// Interpreter is true for the program interpreter (PT_INTERP).
	Interpreter bool
	// Searched lists where a library not found was looked for.
	Searched []string

	obj *elfObject
	// rpathChain is the DT_RPATH search list inherited by what it loads.
	rpathChain []string
}

func newLoader(root string, obj *elfObject) *loader {
	l := &loader{root: root, class: obj.class, machine: obj.machine}
	seen := map[string]bool{}
	add := func(dirs ...string) {
		for _, d := range dirs {
			d = filepath.Clean(d)
			if !seen[d] {
				seen[d] = true
				l.systemDirs = append(l.systemDirs, d)
			}
		}
	}
	add(ldSoConfDirs(root, "/etc/ld.so.conf", 0)...)
	if t := multiarch(obj.class, obj.machine); t != "" {
		add("/lib/"+t, "/usr/lib/"+t)
	}
	if obj.class == elf.ELFCLASS64 {
		add("/lib64", "/usr/lib64")
	}
	add("/lib", "/usr/lib")
	return l
}

// multiarch is Debian's multiarch triplet for a class and machine.
func multiarch(c elf.Class, m elf.Machine) string {
	switch {
	case m == elf.EM_X86_64 && c == elf.ELFCLASS64:
		return "x86_64-linux-gnu"
	case m == elf.EM_386:
		return "i386-linux-gnu"
	case m == elf.EM_AARCH64:
		return "aarch64-linux-gnu"
	case m == elf.EM_PPC64:
		return "powerpc64le-linux-gnu"
	case m == elf.EM_RISCV && c == elf.ELFCLASS64:
		return "riscv64-linux-gnu"
	case m == elf.EM_S390:
		return "s390x-linux-gnu"
	case m == elf.EM_ARM:
		return "arm-linux-gnueabihf"
	}
	return ""
}

// resolve returns every library the subject (at path, read as obj) needs,
// its interpreter first, then breadth-first in loading order.
func (l *loader) resolve(path string, obj *elfObject) []*library {
	var libs []*library
	byName := map[string]*library{}
	if obj.interp != "" {
		lib := &library{Name: obj.interp, Interpreter: true, NeededBy: []string{""}}
		l.find(lib, "", nil, nil)
		libs = append(libs, lib)
		byName[obj.interp] = lib
	}
	origin := filepath.Dir(path)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		origin = filepath.Dir(real)
	}
	type pending struct {
		by         string
		obj        *elfObject
		origin     string
		rpathChain []string
	}
	queue := []pending{{"", obj, origin, nil}}
	for len(queue) > 0 && len(libs) < maxLibraries {
		p := queue[0]
		queue = queue[1:]
		chain := p.rpathChain
		if len(p.obj.runpath) == 0 {
			chain = append(expandOrigin(p.obj.rpath, p.origin), p.rpathChain...)
		}
		runpath := expandOrigin(p.obj.runpath, p.origin)
		for _, name := range p.obj.needed {
			if lib, ok := byName[name]; ok {
				lib.NeededBy = appendOnce(lib.NeededBy, p.by)
				continue
			}
			if len(libs) >= maxLibraries {
				break
			}
			lib := &library{Name: name, NeededBy: []string{p.by}}
			byName[name] = lib
			libs = append(libs, lib)
			var rpath []string
			if len(p.obj.runpath) == 0 {
				rpath = chain
			}
			if l.find(lib, p.origin, rpath, runpath) {
				queue = append(queue, pending{name, lib.obj, filepath.Dir(lib.Path), chain})
			}
		}
	}
	return libs
}

// find looks for lib as the loader would and reports whether it was found
// and is an object to descend into.
func (l *loader) find(lib *library, origin string, rpath, runpath []string) bool {
	var dirs []string
	if strings.Contains(lib.Name, "/") {
		p := lib.Name
		if !filepath.IsAbs(p) {
			p = filepath.Join(origin, p) // the loader uses its working directory; the binary's is the best guess
		}
		return l.try(lib, p)
	}
	dirs = append(dirs, rpath...)
	dirs = append(dirs, runpath...)
	dirs = append(dirs, l.systemDirs...)
	for _, d := range dirs {
		if l.try(lib, filepath.Join(d, lib.Name)) {
			return true
		}
	}
	lib.Searched = dirs
	return false
}

// try accepts path for lib when it is an ELF object of the subject's class
// and machine.
func (l *loader) try(lib *library, path string) bool {
	host := filepath.Join(l.root, path)
	obj, err := readELFFile(host)
	if err != nil || obj.class != l.class || obj.machine != l.machine {
		if lib.Interpreter && lib.Path == "" {
			lib.Searched = []string{path}
		}
		return false
	}
	lib.Path, lib.obj = path, obj
	lib.Real = path
	if r, err := filepath.EvalSymlinks(host); err == nil {
		if rel, err := filepath.Rel(l.root, r); err == nil {
			lib.Real = filepath.Join("/", rel)
		}
	}
	return true
}

// expandOrigin replaces $ORIGIN in search directories and drops those with
// another dynamic string token.
func expandOrigin(dirs []string, origin string) []string {
	var out []string
	for _, d := range dirs {
		d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
		if strings.Contains(d, "$") || !filepath.IsAbs(d) {
			continue
		}
		out = append(out, filepath.Clean(d))
	}
	return out
}

// ldSoConfDirs returns the directories an ld.so.conf file (below root)
// lists, following its include lines (globs) up to a small depth.
func ldSoConfDirs(root, conf string, depth int) []string {
	if depth > 8 {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(root, conf))
	if err != nil {
		return nil
	}
	dirs, includes := parseLdSoConf(b)
	for _, inc := range includes {
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(filepath.Dir(conf), inc)
		}
		matches, _ := filepath.Glob(filepath.Join(root, inc))
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				continue
			}
			dirs = append(dirs, ldSoConfDirs(root, filepath.Join("/", rel), depth+1)...)
		}
	}
	return dirs
}

// parseLdSoConf reads ld.so.conf syntax: one directory per line (or
// separated by white space, colons or commas, as ldconfig accepts),
// "include GLOB" lines, "#" comments; "hwcap" lines are ignored.
func parseLdSoConf(b []byte) (dirs, includes []string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' || r == ',' })
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "include":
			includes = append(includes, fields[1:]...)
		case "hwcap":
		default:
			for _, f := range fields {
				if filepath.IsAbs(f) {
					dirs = append(dirs, filepath.Clean(f))
				}
			}
		}
	}
	return dirs, includes
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func (lib *library) String() string {
	if lib.Path == "" {
		return fmt.Sprintf("%s (not found)", lib.Name)
	}
	return fmt.Sprintf("%s => %s", lib.Name, lib.Path)
}
