package idtoken_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/policy"
)

func identity(jti string, exp time.Time) *idtoken.Identity {
	return &idtoken.Identity{OIDCCaller: policy.OIDCCaller{Issuer: "https://issuer"}, TokenID: jti, Expiry: exp}
}

func TestReplayCache(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1_800_000_000, 0)
	r := idtoken.NewReplayCache(3, time.Minute, func() time.Time { return clock })
	exp := clock.Add(5 * time.Minute)
	check := func(err error, want string) {
		t.Helper()
		var e *idtoken.Error
		switch {
		case want == "" && err != nil:
			t.Fatalf("Use() = %v", err)
		case want == "":
		case want == "full" && !errors.Is(err, idtoken.ErrReplayCacheFull):
			t.Fatalf("Use() = %v; want ErrReplayCacheFull", err)
		case want == "full":
		case !errors.As(err, &e) || e.Check != idtoken.CheckReplay:
			t.Fatalf("Use() = %v; want a refusal of check %q (%s)", err, idtoken.CheckReplay, want)
		}
	}
	check(r.Use(identity("a", exp)), "")
	check(r.Use(identity("a", exp)), "replayed")
	check(r.Use(identity("", exp)), "no jti")
	other := identity("a", exp)
	other.Issuer = "https://other" // jti is unique per issuer only
	check(r.Use(other), "")
	check(r.Use(identity("b", clock.Add(time.Minute))), "")
	check(r.Use(identity("c", exp)), "full")
	// b expires; one skew later it is forgotten, which makes room.
	clock = clock.Add(2*time.Minute + time.Second)
	check(r.Use(identity("c", exp)), "")
	if r.Len() != 3 {
		t.Errorf("Len() = %d, want 3", r.Len())
	}
	check(r.Use(identity("a", exp)), "replayed")
}

// TestReplayCacheBounded: however many tokens go through, the cache holds
// at most its limit.
func TestReplayCacheBounded(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1_800_000_000, 0)
	r := idtoken.NewReplayCache(100, time.Second, func() time.Time { return clock })
	for i := range 10_000 {
		_ = r.Use(identity(fmt.Sprint(i), clock.Add(time.Second)))
		if i%50 == 0 {
			clock = clock.Add(3 * time.Second)
		}
		if r.Len() > 100 {
			t.Fatalf("Len() = %d after %d tokens, over the limit of 100", r.Len(), i+1)
		}
	}
}
