//go:build linux || darwin || freebsd || netbsd || openbsd

package digestcache

import (
	"io/fs"
	"syscall"
)

func identityOf(fi fs.FileInfo) (Identity, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Identity{}, false
	}
	m, c := statTimes(st)
	return Identity{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Size: st.Size, ModNS: m, ChangeNS: c}, true
}
