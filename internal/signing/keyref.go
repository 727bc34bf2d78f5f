package signing

import (
	"fmt"
	"strings"
)

// KeyKind says where a signing key lives.
type KeyKind int

// The kinds of key a Key input can name.
const (
	// KeyNone means no key: keyless signing.
	KeyNone KeyKind = iota
	// KeyFile is an encrypted cosign private key file (cosign.key).
	KeyFile
	// KeyKMS is a key held by a key management service, named by a URI.
	KeyKMS
	// KeyEnvVar is an environment variable holding an encrypted cosign
	// private key's PEM, named as cosign names it: env://NAME.
	KeyEnvVar
)

// EnvScheme prefixes the name of an environment variable holding a key.
const EnvScheme = "env://"

// KMSSchemes are the URI schemes of the KMS providers slipway registers, in
// the form cosign accepts them.
var KMSSchemes = []string{"awskms://", "azurekms://", "gcpkms://", "hashivault://"}

// KeyRef is a parsed "key" input.
type KeyRef struct {
	Kind KeyKind
	// Path is the key file (KeyFile).
	Path string
	// URI is the full KMS URI and Scheme its scheme with "://" (KeyKMS).
	URI    string
	Scheme string
	// Env is the environment variable's name (KeyEnvVar).
	Env string
}

// String returns the reference as the user wrote it.
func (k KeyRef) String() string {
	switch k.Kind {
	case KeyFile:
		return k.Path
	case KeyKMS:
		return k.URI
	case KeyEnvVar:
		return EnvScheme + k.Env
	}
	return ""
}

// ParseKeyRef parses the "key" input: empty for keyless, a KMS URI with one
// of KMSSchemes, env://NAME for an environment variable holding the key's
// PEM, or else the path of a cosign key file. Any other URI scheme
// is an error rather than a file name, so that a typo such as "awskms:/x"
// or "vault://x" is reported instead of looked up on disk.
func ParseKeyRef(s string) (KeyRef, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return KeyRef{Kind: KeyNone}, nil
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		return KeyRef{}, fmt.Errorf("key %q contains a control character; give a cosign key file path or a KMS URI", s)
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, EnvScheme) {
		name := s[len(EnvScheme):]
		if s[:len(EnvScheme)] != EnvScheme || !isEnvName(name) {
			return KeyRef{}, fmt.Errorf("key %q: write an environment variable holding the key's PEM as %q", s, EnvScheme+"COSIGN_KEY")
		}
		return KeyRef{Kind: KeyEnvVar, Env: name}, nil
	}
	for _, scheme := range KMSSchemes {
		if strings.HasPrefix(lower, scheme) {
			if len(s) == len(scheme) {
				return KeyRef{}, fmt.Errorf("KMS key %q names no key; write it like %q", s, kmsExample(scheme))
			}
			if s[:len(scheme)] != scheme {
				return KeyRef{}, fmt.Errorf("KMS key %q: the scheme must be lower case, %q", s, scheme)
			}
			return KeyRef{Kind: KeyKMS, URI: s, Scheme: scheme}, nil
		}
	}
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		return KeyRef{}, fmt.Errorf("key %q has unknown scheme %q; use a cosign key file path, env://NAME or a KMS URI starting with one of %s", s, s[:i+3], strings.Join(KMSSchemes, ", "))
	}
	for _, scheme := range KMSSchemes {
		name := strings.TrimSuffix(scheme, "://")
		if strings.HasPrefix(lower, name+":") {
			return KeyRef{}, fmt.Errorf("key %q looks like a malformed KMS URI; write it like %q", s, kmsExample(scheme))
		}
	}
	return KeyRef{Kind: KeyFile, Path: s}, nil
}

// isScheme reports whether s is an RFC 3986 URI scheme.
func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// isEnvName reports whether s is a portable environment variable name.
func isEnvName(s string) bool {
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return s != ""
}

func kmsExample(scheme string) string {
	switch scheme {
	case "awskms://":
		return "awskms:///arn:aws:kms:us-east-1:111122223333:key/KEY-ID"
	case "azurekms://":
		return "azurekms://VAULT.vault.azure.net/KEY"
	case "gcpkms://":
		return "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K"
	}
	return "hashivault://KEY-NAME"
}
