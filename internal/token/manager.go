package token

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slipway/actions/internal/store"
)

// Identity is who an authenticated token belongs to.
type Identity struct {
	// TokenID is the token's public ID.
	TokenID string
	// Name is the name the token was made with.
	Name   string
	Scopes []Scope
	// Expires is when the token stops working; zero for never.
	Expires time.Time
}

// Has reports whether the identity holds scope s.
func (i Identity) Has(s Scope) bool { return slices.Contains(i.Scopes, s) }

// String names the identity in logs: "token:<name>/<id>".
func (i Identity) String() string { return "token:" + i.Name + "/" + i.TokenID }

// Reasons a token is refused; Authenticate wraps one of them. They are for
// the logs: the client learns only that its token was not accepted.
var (
	ErrMalformed = errors.New("token is malformed")
	ErrUnknown   = errors.New("token is unknown")
	ErrMismatch  = errors.New("token secret does not match")
	ErrExpired   = errors.New("token has expired")
	ErrRevoked   = errors.New("token was revoked")
)

// Manager makes, lists, revokes and checks tokens on a store.
type Manager struct {
	store  store.Store
	now    func() time.Time
	params Params

	// sem bounds concurrent Argon2id computations (memory, CPU).
	sem chan struct{}
	// verified maps a stored PHC string to the SHA-256 of a secret that
	// matched it, so that repeated requests skip Argon2id. Only hashes of
	// secrets, in memory; the row (expiry, revocation) is read every time.
	mu       sync.Mutex
	verified map[string][sha256.Size]byte
}

// Option configures a Manager.
type Option func(*Manager)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(m *Manager) { m.now = now } }

// WithParams sets the Argon2id parameters of new tokens (tests use cheap ones).
func WithParams(p Params) Option { return func(m *Manager) { m.params = p } }

// NewManager returns a Manager on s.
func NewManager(s store.Store, opts ...Option) *Manager {
	m := &Manager{store: s, now: time.Now, params: DefaultParams, sem: make(chan struct{}, 2), verified: map[string][sha256.Size]byte{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// CreateOptions describe a new token.
type CreateOptions struct {
	Name   string
	Scopes []Scope
	// TTL is how long it works; zero for no expiry.
	TTL time.Duration
}

// MaxNameLen bounds a token's name (it appears in every log line of its
// requests).
const MaxNameLen = 128

// CheckName checks a token's name: 1 to MaxNameLen bytes of UTF-8 without
// control characters (it is written into logs and records as is).
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("is empty; name whose token it is (a person, a CI system)")
	case len(name) > MaxNameLen:
		return fmt.Errorf("has %d bytes; give at most %d", len(name), MaxNameLen)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("%q holds control characters or is not UTF-8; give printable text", name)
	}
	return nil
}

// Create makes a token, stores its hash and returns the whole token (the
// only time it exists outside its holder) and its record.
func (m *Manager) Create(ctx context.Context, o CreateOptions) (string, store.Token, error) {
	if len(o.Scopes) == 0 {
		return "", store.Token{}, fmt.Errorf("a token needs at least one scope; give --scope with some of %s", scopeList())
	}
	if o.TTL < 0 {
		return "", store.Token{}, fmt.Errorf("token lifetime %s is negative; give a positive --ttl such as 720h, or none for no expiry", o.TTL)
	}
	p, err := Generate()
	if err != nil {
		return "", store.Token{}, err
	}
	hash, err := Hash(p.String(), m.params)
	if err != nil {
		return "", store.Token{}, err
	}
	now := m.now().UTC().Truncate(time.Millisecond)
	t := store.Token{ID: p.ID, Name: o.Name, Hash: hash, Created: now}
	for _, s := range o.Scopes {
		t.Scopes = append(t.Scopes, string(s))
	}
	if o.TTL > 0 {
		t.Expires = now.Add(o.TTL)
	}
	if err := m.store.CreateToken(ctx, t); err != nil {
		return "", store.Token{}, err
	}
	return p.String(), t, nil
}

// List returns every token's record (IDs, names, scopes, times; the
// records hold hashes, which callers must not show).
func (m *Manager) List(ctx context.Context) ([]store.Token, error) { return m.store.Tokens(ctx) }

// Revoke revokes the token with this ID; it stops working at once.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%q is not a token ID (%d characters of a-z, 2-7); take the ID from \"slipway token list\"", id, IDLen)
	}
	if err := m.store.RevokeToken(ctx, id, m.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no token has ID %q (%w); take the ID from \"slipway token list\"", id, store.ErrNotFound)
		}
		return err
	}
	return nil
}

// Authenticate checks a presented token: shape, stored hash, expiry and
// revocation. Its error wraps one of ErrMalformed, ErrUnknown, ErrMismatch,
// ErrExpired, ErrRevoked, or is a store failure (none of those).
func (m *Manager) Authenticate(ctx context.Context, presented string) (Identity, error) {
	p, err := Parse(presented)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	t, err := m.store.Token(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Identity{}, fmt.Errorf("token %q: %w", p.ID, ErrUnknown)
	}
	if err != nil {
		return Identity{}, err
	}
	if ok, err := m.check(ctx, presented, t.Hash); err != nil {
		return Identity{}, fmt.Errorf("token %q: %w", p.ID, err)
	} else if !ok {
		return Identity{}, fmt.Errorf("token %q: %w", p.ID, ErrMismatch)
	}
	now := m.now()
	if !t.Revoked.IsZero() {
		return Identity{}, fmt.Errorf("token %q (%s): %w at %s", p.ID, t.Name, ErrRevoked, t.Revoked.Format(time.RFC3339))
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return Identity{}, fmt.Errorf("token %q (%s): %w at %s", p.ID, t.Name, ErrExpired, t.Expires.Format(time.RFC3339))
	}
	id := Identity{TokenID: t.ID, Name: t.Name, Expires: t.Expires}
	for _, s := range t.Scopes {
		id.Scopes = append(id.Scopes, Scope(s))
	}
	return id, nil
}

// check compares presented with the stored hash: through the cache of
// verified secrets when it holds this hash, else with Argon2id.
func (m *Manager) check(ctx context.Context, presented, phc string) (bool, error) {
	sum := sha256.Sum256([]byte(presented))
	m.mu.Lock()
	cached, ok := m.verified[phc]
	m.mu.Unlock()
	if ok {
		return subtle.ConstantTimeCompare(sum[:], cached[:]) == 1, nil
	}
	select {
	case m.sem <- struct{}{}:
		defer func() { <-m.sem }()
	case <-ctx.Done():
		return false, context.Cause(ctx)
	}
	match, err := Check(presented, phc)
	if err != nil || !match {
		return false, err
	}
	m.mu.Lock()
	if len(m.verified) >= maxCached {
		clear(m.verified)
	}
	m.verified[phc] = sum
	m.mu.Unlock()
	return true, nil
}

// maxCached bounds the cache of verified secrets.
const maxCached = 10000
