package digestcache

import (
	"io/fs"
	"time"
)

// Identity is what a file's content is known by without reading it.
type Identity struct {
	Dev      uint64 `json:"dev"`
	Ino      uint64 `json:"ino"`
	Size     int64  `json:"size"`
	ModNS    int64  `json:"mtimeNs"`
	ChangeNS int64  `json:"ctimeNs"`
}

// IdentityOf returns the identity of the file fi describes, and false for
// anything but a regular file or where the platform gives no inode and
// change time (then nothing is cached).
func IdentityOf(fi fs.FileInfo) (Identity, bool) {
	if !fi.Mode().IsRegular() {
		return Identity{}, false
	}
	return identityOf(fi)
}

// RacyWindow is how much older than the start of a read a file's
// modification and change times must be for the digest the read computed
// to be stored: file times advance in clock ticks (a few milliseconds on
// Linux, 1 or 2 s on some file systems), and a write in the tick of the one
// before it leaves the times unchanged.
const RacyWindow = 2 * time.Second

// Settled reports whether id's times are older than readStart by more
// than RacyWindow: then a read that began at readStart and ended with the
// file still at id read what any later read of a file at id reads.
func (id Identity) Settled(readStart time.Time) bool {
	limit := readStart.Add(-RacyWindow).UnixNano()
	return id.ModNS < limit && id.ChangeNS < limit
}
