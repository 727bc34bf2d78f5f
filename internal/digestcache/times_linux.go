package digestcache

import "syscall"

func statTimes(st *syscall.Stat_t) (mod, change int64) {
	return st.Mtim.Nano(), st.Ctim.Nano()
}
