package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store"
)

func testTokenRoundTrip(t *testing.T, s store.Store) {
	for _, tok := range []store.Token{
		{ID: "full", Name: "ci", Hash: "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA", Scopes: []string{"upload", "read"},
			Created: at(1), Expires: at(3_600_000), Revoked: at(60_000)},
		{ID: "never-expires", Name: "ops team", Hash: "h", Scopes: []string{"admin"}, Created: at(2)},
		{ID: "no-scopes", Name: "ünïcode", Hash: "h", Created: at(3)},
	} {
		t.Run(tok.ID, func(t *testing.T) {
			if err := s.CreateToken(ctx(), tok); err != nil {
				t.Fatal(err)
			}
			got, err := s.Token(ctx(), tok.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tok) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, tok)
			}
		})
	}
}

func testTokenErrors(t *testing.T, s store.Store) {
	tok := store.Token{ID: "abc", Name: "ci", Hash: "h", Scopes: []string{"read"}, Created: at(0)}
	if err := s.CreateToken(ctx(), tok); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"create a taken ID", s.CreateToken(ctx(), store.Token{ID: "abc", Name: "other", Hash: "h2", Created: at(1)}), store.ErrExists},
		{"read a missing token", func() error { _, err := s.Token(ctx(), "nope"); return err }(), store.ErrNotFound},
		{"IDs are case-sensitive", func() error { _, err := s.Token(ctx(), "ABC"); return err }(), store.ErrNotFound},
		{"revoke a missing token", s.RevokeToken(ctx(), "nope", at(2)), store.ErrNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if got, err := s.Token(ctx(), "abc"); err != nil || got.Name != "ci" {
		t.Errorf("the first token after a refused duplicate: %+v, %v", got, err)
	}
}

func testRevokeKeepsFirstTime(t *testing.T, s store.Store) {
	if err := s.CreateToken(ctx(), store.Token{ID: "k", Name: "n", Hash: "h", Created: at(0)}); err != nil {
		t.Fatal(err)
	}
	for _, when := range []time.Time{at(60_000), at(3_600_000), at(1)} {
		if err := s.RevokeToken(ctx(), "k", when); err != nil {
			t.Fatalf("revoking at %v: %v", when, err)
		}
	}
	if got, _ := s.Token(ctx(), "k"); !got.Revoked.Equal(at(60_000)) {
		t.Errorf("revoked at %v, want the first revocation %v", got.Revoked, at(60_000))
	}
}

func testTokensOldestFirst(t *testing.T, s store.Store) {
	if list, err := s.Tokens(ctx()); err != nil || len(list) != 0 {
		t.Fatalf("Tokens() of an empty store = %+v, %v", list, err)
	}
	for i, id := range []string{"c", "a", "b"} {
		if err := s.CreateToken(ctx(), store.Token{ID: id, Name: id, Hash: "h", Created: at(int64(10 - i))}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Tokens(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tok := range list {
		ids = append(ids, tok.ID)
	}
	if fmt.Sprint(ids) != "[b a c]" {
		t.Errorf("Tokens() in order %v, want [b a c] (oldest first)", ids)
	}
}

// Several writers at once (handlers of one server, or several replicas on one database): none fails.
func testConcurrentTokens(t *testing.T, s store.Store) {
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("t%02d", i)
			if err := s.CreateToken(ctx(), store.Token{ID: id, Name: "n", Hash: "h", Created: at(int64(i))}); err != nil {
				errs <- err
				return
			}
			if _, err := s.Token(ctx(), id); err != nil {
				errs <- err
			}
			errs <- s.RevokeToken(ctx(), id, at(100))
		}()
		go func() {
			defer wg.Done()
			_, err := s.Tokens(ctx())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if list, _ := s.Tokens(ctx()); len(list) != n {
		t.Errorf("%d tokens, want %d", len(list), n)
	}
}
