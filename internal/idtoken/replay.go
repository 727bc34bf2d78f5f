package idtoken

import (
	"sync"
	"time"
)

// ReplayCache makes ID tokens single-use: Use accepts a token's "jti" once
// and refuses it again until the token has expired (with the clock skew),
// after which the token is refused as expired anyway. It holds at most
// Limit tokens; expired ones are dropped when it is full. It is in memory:
// replicas of a server and a restarted server do not share it, so a token
// can be used once per replica (and again after a restart) within its
// lifetime. Safe for concurrent use.
type ReplayCache struct {
	limit int
	skew  time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // issuer NUL jti -> when it may be forgotten
}

// DefaultReplayLimit is the number of unexpired tokens a ReplayCache holds
// when NewReplayCache is given 0.
const DefaultReplayLimit = 100_000

// NewReplayCache returns a cache of at most limit tokens (DefaultReplayLimit
// when 0), which forgets a token clockSkew after it expired (give the
// Verifier's; DefaultClockSkew when 0). now is the clock; time.Now when nil.
func NewReplayCache(limit int, clockSkew time.Duration, now func() time.Time) *ReplayCache {
	if limit <= 0 {
		limit = DefaultReplayLimit
	}
	if clockSkew <= 0 {
		clockSkew = DefaultClockSkew
	}
	if now == nil {
		now = time.Now
	}
	return &ReplayCache{limit: limit, skew: clockSkew, now: now, seen: map[string]time.Time{}}
}

// Use records id's token as used. It refuses (an *Error, check "jti") a
// token seen before and a token without "jti", whose reuse could not be
// told; it returns ErrReplayCacheFull when the cache holds limit tokens
// that are all still valid. Call it once the caller is authorized, so that
// only tokens of allowed uploaders take room.
func (r *ReplayCache) Use(id *Identity) error {
	if id.TokenID == "" {
		return refuse(CheckReplay, "it has no \"jti\" claim, so its reuse cannot be told; send a GitHub Actions ID token (they all carry one)")
	}
	key := id.Issuer + "\x00" + id.TokenID
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if until, ok := r.seen[key]; ok && now.Before(until) {
		return refuse(CheckReplay, "it was used before (jti %q); request a fresh token for each upload", id.TokenID)
	}
	if len(r.seen) >= r.limit {
		for k, until := range r.seen {
			if !now.Before(until) {
				delete(r.seen, k)
			}
		}
		if len(r.seen) >= r.limit {
			return ErrReplayCacheFull
		}
	}
	r.seen[key] = id.Expiry.Add(r.skew)
	return nil
}

// Len returns the number of tokens held.
func (r *ReplayCache) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}
