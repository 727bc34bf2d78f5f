package token

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id's cost parameters.
//
// The defaults are OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane):
// the secret is 256 random bits, so no amount of stretching is what keeps
// it from being guessed; the hash is there so that a copy of the database
// does not hand out working tokens, and it is cheap enough (about 60 ms and
// 19 MiB on the 2-core CI machine, BenchmarkCheck) for a server that must
// stay under 128 MiB; Manager runs at most two at once. Manager caches a
// verified token's SHA-256 in memory so that only a token's first request
// pays it (BenchmarkAuthenticateCached: about 50 µs, a row read).
// A stored hash carries its own parameters, so changing these defaults
// keeps every existing token working.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen int
}

// DefaultParams are used for new tokens.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

var b64 = base64.RawStdEncoding

// Hash returns the Argon2id PHC string of secret under p:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func Hash(secret string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading a random salt: %w", err)
	}
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Limits on the parameters a stored hash may ask for, so that a damaged or
// planted row cannot make one check take gigabytes or minutes.
const (
	maxMemory = 256 * 1024
	maxTime   = 16
)

// Check reports whether secret matches the PHC string phc, comparing in
// constant time. An error means phc itself is unusable.
func Check(secret, phc string) (bool, error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(phc string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	bad := func(what string) error {
		return fmt.Errorf("stored token hash is not an Argon2id PHC string (%s); revoke the token and create a new one", what)
	}
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, bad(fmt.Sprintf("version %q, want v=%d", parts[2], argon2.Version))
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, bad(fmt.Sprintf("parameters %q", parts[3]))
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 {
		return p, nil, nil, bad(fmt.Sprintf("parameters %q out of range", parts[3]))
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, bad("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, bad("hash")
	}
	return p, salt, key, nil
}
