package token

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// Prefix starts every token.
const Prefix = "slw_"

// Lengths of the two parts, in characters of the base32 alphabet
// (a–z, 2–7): 10 random bytes of ID, 32 of secret.
const (
	IDLen     = 16
	SecretLen = 52
	// Len is the length of a whole token.
	Len = len(Prefix) + IDLen + 1 + SecretLen
)

var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Parsed is a token split into its parts. Secret is the whole token's
// secret part; keep it out of logs.
type Parsed struct {
	ID     string
	Secret string
}

// String is the whole token.
func (p Parsed) String() string { return Prefix + p.ID + "_" + p.Secret }

// Generate makes a new random token.
func Generate() (Parsed, error) {
	var id [10]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Parsed{}, fmt.Errorf("reading random bytes for a token: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return Parsed{}, fmt.Errorf("reading random bytes for a token: %w", err)
	}
	return Parsed{ID: encoding.EncodeToString(id[:]), Secret: encoding.EncodeToString(secret[:])}, nil
}

// Parse splits s into ID and secret. Its errors never quote s (it may be
// a real secret with a typo); they say what is wrong with its shape.
func Parse(s string) (Parsed, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Parsed{}, fmt.Errorf("token does not start with %q; use the value \"slipway token create\" printed after \"token=\"", Prefix)
	}
	if len(s) != Len {
		return Parsed{}, fmt.Errorf("token has %d characters, want %d; copy the whole value \"slipway token create\" printed", len(s), Len)
	}
	id, secret := rest[:IDLen], rest[IDLen+1:]
	if rest[IDLen] != '_' {
		return Parsed{}, fmt.Errorf("token has no \"_\" after its %d-character ID; copy the whole value \"slipway token create\" printed", IDLen)
	}
	if !ValidID(id) || !inAlphabet(secret) {
		return Parsed{}, fmt.Errorf("token holds characters outside a-z and 2-7; copy the whole value \"slipway token create\" printed")
	}
	return Parsed{ID: id, Secret: secret}, nil
}

// ValidID reports whether id has the shape of a token ID.
func ValidID(id string) bool { return len(id) == IDLen && inAlphabet(id) }

func inAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
