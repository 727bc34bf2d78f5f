package token

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/slipway/actions/internal/store/sqlite"
)

// BenchmarkCheck is one Argon2id check with the default parameters: what a
// token's first request costs.
func BenchmarkCheck(b *testing.B) {
	phc, err := Hash("slw_secret", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := Check("slw_secret", phc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkAuthenticateCached is every later request of a token: one row
// read and a SHA-256 comparison.
func BenchmarkAuthenticateCached(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m := NewManager(db)
	tok, _, err := m.Create(ctx, CreateOptions{Name: "bench", Scopes: []Scope{Read}})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
