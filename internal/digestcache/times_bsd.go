//go:build darwin || freebsd || netbsd || openbsd

package digestcache

import "syscall"

func statTimes(st *syscall.Stat_t) (mod, change int64) {
	return st.Mtimespec.Nano(), st.Ctimespec.Nano()
}
