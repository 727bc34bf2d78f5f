package token

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store/sqlite"
)

// cheap keeps the tests fast; the format and checks are the same.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

func TestParse(t *testing.T) {
	t.Parallel()
	good := "slw_abcdefghijklmnop_" + strings.Repeat("a", SecretLen)
	tests := []struct {
		name, in, wantErr string
	}{
		{"valid", good, ""},
		{"no prefix", "abc", `does not start with "slw_"`},
		{"other prefix", "ghp_" + good[4:], `does not start with "slw_"`},
		{"short", good[:len(good)-1], "has 72 characters, want 73"},
		{"long", good + "a", "has 74 characters, want 73"},
		{"no separator", "slw_abcdefghijklmnopa" + strings.Repeat("a", SecretLen), `no "_" after its 16-character ID`},
		{"upper case", strings.ToUpper(good[:4]) + good[4:], `does not start with "slw_"`},
		{"bad char in id", "slw_abcdefghijklmn0p_" + strings.Repeat("a", SecretLen), "outside a-z and 2-7"},
		{"bad char in secret", "slw_abcdefghijklmnop_" + strings.Repeat("a", SecretLen-1) + "=", "outside a-z and 2-7"},
		{"empty", "", `does not start with "slw_"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tt.in)
			if tt.wantErr == "" {
				if err != nil || p.String() != tt.in || p.ID != "abcdefghijklmnop" {
					t.Fatalf("Parse() = %+v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse() error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if a == b {
		t.Fatal("two tokens are equal")
	}
	if p, err := Parse(a.String()); err != nil || p != a {
		t.Errorf("a generated token does not parse back: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	g, _ := Generate()
	for _, s := range []string{g.String(), "", "slw_", "slw__", strings.Repeat("_", Len), "slw_" + strings.Repeat("z", Len-4)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			// A secret-like run of the input (16+ characters of the
			// alphabet) must not appear in the message.
			if run := longestRun(s); len(run) >= IDLen && strings.Contains(err.Error(), run) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		if p.String() != s || !ValidID(p.ID) || len(p.Secret) != SecretLen {
			t.Fatalf("Parse(%q) = %+v: does not round-trip", s, p)
		}
	})
}

func TestHashCheck(t *testing.T) {
	t.Parallel()
	phc, err := Hash("secret", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("PHC string %q", phc)
	}
	if ok, err := Check("secret", phc); !ok || err != nil {
		t.Errorf("Check(right) = %v, %v", ok, err)
	}
	if ok, err := Check("secreT", phc); ok || err != nil {
		t.Errorf("Check(wrong) = %v, %v", ok, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, err := Check("secret", bad); err == nil || !strings.Contains(err.Error(), "revoke the token") {
			t.Errorf("Check on %q: %v, want an error saying what to do", bad, err)
		}
	}
}

func TestParseScopes(t *testing.T) {
	t.Parallel()
	got, err := ParseScopes([]string{"read", "upload", "read"})
	if err != nil || len(got) != 2 || got[0] != Upload || got[1] != Read {
		t.Errorf("ParseScopes = %v, %v", got, err)
	}
	if _, err := ParseScopes([]string{"write"}); err == nil || !strings.Contains(err.Error(), `unknown scope "write"`) {
		t.Errorf("unknown scope: %v", err)
	}
	if _, err := ParseScopes(nil); err == nil {
		t.Error("no scopes accepted")
	}
}

func TestManager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	m := NewManager(db, WithParams(cheap), WithClock(func() time.Time { return now }))

	tok, rec, err := m.Create(ctx, CreateOptions{Name: "ci", Scopes: []Scope{Upload, Read}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.Hash, tok) || !strings.HasPrefix(rec.Hash, "$argon2id$") {
		t.Fatalf("stored hash %q", rec.Hash)
	}
	for range 2 { // the second goes through the cache of verified secrets
		id, err := m.Authenticate(ctx, tok)
		if err != nil || id.Name != "ci" || !id.Has(Upload) || !id.Has(Read) || id.Has(Admin) {
			t.Fatalf("Authenticate = %+v, %v", id, err)
		}
	}
	p, _ := Parse(tok)
	wrong := Parsed{ID: p.ID, Secret: strings.Repeat("a", SecretLen)}.String()
	unknown := Parsed{ID: strings.Repeat("b", IDLen), Secret: p.Secret}.String()
	for _, tt := range []struct {
		name, tok string
		want      error
	}{
		{"malformed", "Bearer " + tok, ErrMalformed},
		{"wrong secret", wrong, ErrMismatch},
		{"unknown id", unknown, ErrUnknown},
	} {
		if _, err := m.Authenticate(ctx, tt.tok); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		} else if strings.Contains(err.Error(), p.Secret) {
			t.Errorf("%s: the error holds the secret: %v", tt.name, err)
		}
	}

	now = now.Add(time.Hour)
	if _, err := m.Authenticate(ctx, tok); !errors.Is(err, ErrExpired) {
		t.Errorf("after its TTL: %v, want ErrExpired", err)
	}
	now = now.Add(-time.Minute)
	if err := m.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, tok); !errors.Is(err, ErrRevoked) {
		t.Errorf("after revoking: %v, want ErrRevoked", err)
	}
	if err := m.Revoke(ctx, strings.Repeat("c", IDLen)); err == nil || !strings.Contains(err.Error(), "slipway token list") {
		t.Errorf("revoking an unknown ID: %v", err)
	}
	if err := m.Revoke(ctx, "../x"); err == nil {
		t.Error("revoking a malformed ID succeeded")
	}
	if _, _, err := m.Create(ctx, CreateOptions{Name: "x"}); err == nil {
		t.Error("a token without scopes was made")
	}
}

// longestRun is the longest run of a-z, 2-7 in s.
func longestRun(s string) string {
	best, start := "", 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && inAlphabet(s[i:i+1]) {
			continue
		}
		if i-start > len(best) {
			best = s[start:i]
		}
		start = i + 1
	}
	return best
}
