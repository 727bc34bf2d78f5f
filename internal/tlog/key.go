package tlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/regfile"
	"golang.org/x/mod/sumdb/note"
)

// VerifierFile returns where the verifier key of the signing key keyFile is
// written: keyFile with its ".key" extension replaced by ".pub".
func VerifierFile(keyFile string) string {
	return strings.TrimSuffix(keyFile, ".key") + ".pub"
}

// OriginFromURL derives a log origin, a schema-less URL as C2SP
// tlog-checkpoint recommends, from the server's public URL:
// "https://slipway.example/" gives "slipway.example/log".
func OriginFromURL(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("deriving the log origin from %q: not an absolute URL: give the public URL as https://HOST[/PATH]", publicURL)
	}
	return strings.TrimSuffix(u.Host+path.Clean("/"+u.Path), "/") + "/log", nil
}

func defaultOrigin() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return h + "/slipway/log"
}

// loadOrCreateKey returns the signer in keyFile, creating the key (and its
// verifier file) for origin when keyFile does not exist.
func loadOrCreateKey(keyFile, origin string) (note.Signer, string, error) {
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		return createKey(keyFile, origin)
	}
	s, skey, err := loadKey(keyFile, origin)
	if err != nil {
		return nil, "", err
	}
	vkey, err := writeVerifier(keyFile, skey)
	return s, vkey, err
}

// loadKey returns the signer in keyFile, which must exist, and the key's
// text, refusing a key others can read or one for another origin than
// origin (when given).
func loadKey(keyFile, origin string) (note.Signer, string, error) {
	info, err := os.Stat(keyFile)
	switch {
	case err != nil:
		return nil, "", fmt.Errorf("reading log key %q: %w", keyFile, err)
	case info.Mode().Perm()&0o077 != 0:
		return nil, "", fmt.Errorf("log key %q has mode %04o: others can read the signing key; run chmod 600 %q", keyFile, info.Mode().Perm(), keyFile)
	}
	raw, err := regfile.ReadAll(keyFile, 4<<10)
	if err != nil {
		return nil, "", fmt.Errorf("reading log key: %w", err)
	}
	skey := strings.TrimSpace(string(raw))
	s, err := note.NewSigner(skey)
	if err != nil {
		// The note error does not quote the key; keep it that way.
		return nil, "", fmt.Errorf("reading log key %q: not a note signing key (PRIVATE+KEY+origin+hash+data): restore the key file from backup", keyFile)
	}
	if origin != "" && s.Name() != origin {
		return nil, "", fmt.Errorf("log key %q signs for origin %q, not %q: a log keeps its origin; drop the origin setting or use that origin", keyFile, s.Name(), origin)
	}
	return s, skey, nil
}

// CreateKey creates a checkpoint signing key for origin in keyFile (mode
// 0600) and its verifier key beside it (VerifierFile), and returns the
// verifier key. It refuses to replace an existing key file: a log's key
// signs every checkpoint, and receipts are checked against it for years.
// Replicas of one log (OpenAWS) are all given the file it creates.
func CreateKey(keyFile, origin string) (string, error) {
	if origin == "" {
		return "", errors.New("creating a log key: no origin: give the log's name, a schema-less URL such as \"slipway.example/log\"")
	}
	if _, err := os.Lstat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("creating log key %q: the file exists: a log keeps its key; remove the file first only if no log was ever signed with it", keyFile)
	}
	_, vkey, err := createKey(keyFile, origin)
	return vkey, err
}

func createKey(keyFile, origin string) (note.Signer, string, error) {
	if origin == "" {
		origin = defaultOrigin()
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, "", fmt.Errorf("creating log key for origin %q: %w: an origin is a schema-less URL such as \"slipway.example/log\"", origin, err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("creating log key for origin %q: %w", origin, err)
	}
	if err := atomicfile.WriteFile(VerifierFile(keyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return nil, "", fmt.Errorf("writing log verifier key: %w", err)
	}
	if err := atomicfile.WriteFile(keyFile, []byte(skey+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("writing log key %q: %w: check that its directory is writable", keyFile, err)
	}
	return s, vkey, nil
}

// verifierOf derives the verifier key of the note signing key skey
// ("PRIVATE+KEY+name+hash+base64(0x01 || Ed25519 seed)").
func verifierOf(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("not a note signing key")
	}
	data, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(data) != 1+ed25519.SeedSize || data[0] != 1 {
		return "", errors.New("not an Ed25519 note signing key")
	}
	pub := ed25519.NewKeyFromSeed(data[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}

// writeVerifier writes the verifier key of skey beside keyFile unless it is
// there already, and returns it.
func writeVerifier(keyFile, skey string) (string, error) {
	vkey, err := verifierOf(skey)
	if err != nil {
		return "", fmt.Errorf("reading log key %q: %w: restore the key file from backup", keyFile, err)
	}
	pub := VerifierFile(keyFile)
	if raw, err := regfile.ReadAll(pub, 4<<10); err == nil && strings.TrimSpace(string(raw)) == vkey {
		return vkey, nil
	}
	if err := atomicfile.WriteFile(pub, []byte(vkey+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("writing log verifier key: %w: check that the key's directory is writable", err)
	}
	return vkey, nil
}
