package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SessionTTL is how long a session lasts after signing in. The API
// refuses the token itself once it expires or is revoked, which ends the
// session at once (the next page sends the person to the login page).
const SessionTTL = 12 * time.Hour

// KeySize is the size of a session key: AES-256.
const KeySize = 32

// session is a signed-in person: the token every API call of their pages
// sends, who the control plane says the token is, and the CSRF secret of
// their forms. It travels only sealed, in the session cookie.
type session struct {
	Token    string    `json:"t"`
	Identity string    `json:"i"`
	Scopes   []string  `json:"s"`
	CSRF     string    `json:"c"`
	Expires  time.Time `json:"e"`
}

// Has reports whether the session's token holds scope (as the control
// plane said at sign-in; the API decides again on every call).
func (s *session) Has(scope string) bool {
	for _, x := range s.Scopes {
		if x == scope {
			return true
		}
	}
	return false
}

// sealer seals sessions into cookie values and opens them.
type sealer struct {
	aead cipher.AEAD
	name string // the cookie's name, sealed in as additional data
}

func newSealer(key []byte, cookie string) (*sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the dashboard's session key is %d bytes, not %d; give a file holding 32 random bytes in hex (openssl rand -hex 32)", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, name: cookie}, nil
}

// maxCookie bounds a session cookie's value: browsers keep about 4 KB.
const maxCookie = 4000

// seal is the cookie value of s: base64url(nonce || AES-GCM(JSON)).
func (k *sealer) seal(s *session) (string, error) {
	plain, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	v := base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plain, []byte(k.name)))
	if len(v) > maxCookie {
		return "", errors.New("the session does not fit in a cookie: the token is too long")
	}
	return v, nil
}

// errNoSession is a missing, tampered, foreign or expired session cookie.
var errNoSession = errors.New("no valid session")

// open is the session sealed in value, if it is ours, intact and not
// expired at now.
func (k *sealer) open(value string, now time.Time) (*session, error) {
	if len(value) > maxCookie {
		return nil, errNoSession
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return nil, errNoSession
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(k.name))
	if err != nil {
		return nil, errNoSession
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.Token == "" || s.CSRF == "" || !now.Before(s.Expires) {
		return nil, errNoSession
	}
	return &s, nil
}

// cookieName is the session cookie's name: with the __Host- prefix (the
// browser keeps it to this host, path /, Secure) when served over TLS.
func cookieName(secure bool) string {
	if secure {
		return "__Host-slipway-session"
	}
	return "slipway-session"
}

// setSession writes s as the session cookie.
func (d *Dashboard) setSession(w http.ResponseWriter, s *session) error {
	v, err := d.seal.seal(s)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: d.seal.name, Value: v, Path: "/", Expires: s.Expires, MaxAge: int(time.Until(s.Expires).Seconds()),
		HttpOnly: true, Secure: d.o.Secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// clearSession removes the session cookie.
func (d *Dashboard) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: d.seal.name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: d.o.Secure, SameSite: http.SameSiteStrictMode})
}

// sessionOf is the request's session, or errNoSession.
func (d *Dashboard) sessionOf(r *http.Request) (*session, error) {
	c, err := r.Cookie(d.seal.name)
	if err != nil {
		return nil, errNoSession
	}
	return d.seal.open(c.Value, d.now())
}

// newCSRF is a fresh CSRF secret.
func newCSRF() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
