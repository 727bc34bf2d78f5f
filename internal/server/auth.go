package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/slipway/actions/internal/token"
)

// Authenticator checks a service token (a *token.Manager). GitHub Actions
// OIDC ID tokens go to Config.OIDC instead (oidc.go).
type Authenticator interface {
	Authenticate(ctx context.Context, presented string) (token.Identity, error)
}

type identityKey struct{}

// IdentityFrom returns the identity auth found for this request; false on
// a public route.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	a, ok := ctx.Value(identityKey{}).(*authState)
	if !ok {
		return Identity{}, false
	}
	return a.id, true
}

const realm = `Bearer realm="slipway"`

// authenticate wraps h: the request needs a bearer token holding scope (a
// service token, or an OIDC ID token when the server accepts them), within
// its identity's rate limit. 401 for a missing, malformed, unknown, wrong,
// expired or revoked token (with WWW-Authenticate), 503 when an OIDC
// issuer's keys cannot be fetched, 403 for a valid token without the
// scope, 429 (with Retry-After) over the rate limit. With oidc, a verified
// OIDC ID token passes without the scope: the handler decides.
func (s *Server) authenticate(scope token.Scope, oidc bool, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		raw := r.Header.Get("Authorization")
		if raw == "" {
			return &Problem{Status: http.StatusUnauthorized, Type: "unauthorized", Title: "Authentication required", Challenge: realm,
				Detail: fmt.Sprintf("this endpoint needs a token with scope %q: send \"Authorization: Bearer <token>\" (slipway token create makes one)", scope)}
		}
		scheme, presented, _ := strings.Cut(raw, " ")
		presented = strings.TrimSpace(presented)
		if !strings.EqualFold(scheme, "Bearer") || presented == "" {
			return &Problem{Status: http.StatusUnauthorized, Type: "unauthorized", Title: "Authentication required",
				Challenge: realm + `, error="invalid_request"`,
				Detail:    "the Authorization header is not a bearer token; send \"Authorization: Bearer <token>\""}
		}
		var id Identity
		if !strings.HasPrefix(presented, token.Prefix) && looksLikeJWT(presented) {
			oid, err := s.verifyOIDC(r.Context(), presented)
			if err != nil {
				return err
			}
			id = Identity{OIDC: oid}
		} else {
			tid, err := s.auth.Authenticate(r.Context(), presented)
			if err != nil {
				return authProblem(err)
			}
			id = Identity{Token: &tid}
		}
		ri := info(r.Context())
		ri.identity, ri.attrs = id.String(), id.logAttrs()
		if !id.Has(scope) && !(oidc && id.OIDC != nil) {
			return &Problem{Status: http.StatusForbidden, Type: "forbidden", Title: "Missing scope",
				Challenge: fmt.Sprintf(`%s, error="insufficient_scope", scope=%q`, realm, scope),
				Detail:    id.missingScope(scope)}
		}
		if wait, ok := s.limits.allow(id.rateKey()); !ok {
			return &Problem{Status: http.StatusTooManyRequests, Type: "rate-limited", Title: "Too many requests",
				RetryAfter: int(math.Ceil(wait.Seconds())),
				Detail:     fmt.Sprintf("%s is over its rate limit; retry after the Retry-After seconds", id.describe())}
		}
		st := &authState{id: id, replay: s.replay}
		return h(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, st)))
	}
}

// authProblem turns an Authenticate error into its answer. The detail
// says what to do without telling a guesser which part was wrong.
func authProblem(err error) *Problem {
	p := &Problem{Status: http.StatusUnauthorized, Type: "unauthorized", Title: "Token not accepted",
		Challenge: realm + `, error="invalid_token"`, Cause: err}
	switch {
	case errors.Is(err, token.ErrExpired):
		p.Detail = "the token has expired; ask the server's operator for a new one (slipway token create)"
	case errors.Is(err, token.ErrRevoked):
		p.Detail = "the token was revoked; ask the server's operator for a new one (slipway token create)"
	case errors.Is(err, token.ErrMalformed):
		p.Detail = strings.TrimPrefix(err.Error(), token.ErrMalformed.Error()+": ")
	case errors.Is(err, token.ErrUnknown), errors.Is(err, token.ErrMismatch):
		p.Detail = "the token is not valid on this server; check SLIPWAY_TOKEN and the server URL"
	default:
		return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Cannot check the token",
			Detail: "the server could not read its token store; retry later", RetryAfter: 1, Cause: err}
	}
	return p
}

// RateLimit is the per-identity request rate: a token bucket of Burst
// requests refilled at PerSecond.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// limiters holds one token bucket per identity.
type limiters struct {
	limit RateLimit
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

// allow takes one request from id's bucket, or says how long to wait.
func (l *limiters) allow(id string) (time.Duration, bool) {
	if l.limit.PerSecond <= 0 {
		return 0, true
	}
	l.mu.Lock()
	lim, ok := l.m[id]
	if !ok {
		if len(l.m) >= 100000 {
			clear(l.m)
		}
		lim = rate.NewLimiter(rate.Limit(l.limit.PerSecond), max(1, l.limit.Burst))
		l.m[id] = lim
	}
	l.mu.Unlock()
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return d, false
	}
	return 0, true
}
