package server

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// DefaultUploadTTL is how long an upload may sit unfinished and untouched
// before the server removes it: a day, longer than any CI job that could
// still resume it.
const DefaultUploadTTL = 24 * time.Hour

// expire removes the uploads whose file nobody has written to since
// before cutoff: the ones this run knows and the ones a previous run left
// in the directory. An upload a request holds is left alone; one removed
// here answers 404 to its client (BLOB_UPLOAD_UNKNOWN), which starts over.
// It returns how many it removed.
func (us *uploads) expire(cutoff time.Time) int {
	entries, err := os.ReadDir(us.dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		id := e.Name()
		if p, err := uuid.Parse(id); err != nil || p.String() != id {
			continue // not an upload (nothing else is written here, but never remove what is not ours)
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
			continue
		}
		us.mu.Lock()
		u, ok := us.m[id]
		if !ok {
			u = &upload{id: id, path: filepath.Join(us.dir, id)}
			us.m[id] = u
		}
		us.mu.Unlock()
		if !u.mu.TryLock() {
			continue // a request is writing to it right now
		}
		// Look again under the lock: a chunk may have arrived meanwhile.
		// One that stays is left in the map (hashed on its next request, as
		// after a restart), so that every request on it shares one lock.
		if fi, err := os.Lstat(u.path); err == nil && fi.ModTime().Before(cutoff) && !u.gone {
			us.drop(u)
			n++
		}
		u.mu.Unlock()
	}
	return n
}

// expireUploads removes stale uploads at start and then every quarter of
// ttl (at least every minute, at most every hour) until ctx ends.
func (s *Server) expireUploads(ctx context.Context, us *uploads, ttl time.Duration) {
	every := min(max(ttl/4, time.Minute), time.Hour)
	for {
		if n := us.expire(time.Now().Add(-ttl)); n > 0 {
			s.log.Info("expired unfinished uploads", "count", n, "ttl", ttl.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
