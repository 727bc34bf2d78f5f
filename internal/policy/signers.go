package policy

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

func (c *compiler) key(field string, k keyDoc) (Key, bool) {
	named := c.claimName(field, k.Name)
	data, ok := c.content(field, "path", k.Path, "pem", k.PEM, "PEM public key")
	if !ok || !named {
		return Key{}, false
	}
	pub, err := parsePublicKey(data)
	if err != nil {
		sub := field + ".pem"
		if k.Path != "" {
			sub = field + ".path"
		}
		c.errorf(sub, "%v", err)
		return Key{}, false
	}
	fp, err := Fingerprint(pub)
	if err != nil {
		c.errorf(field, "%v", err)
		return Key{}, false
	}
	return Key{Name: k.Name, PublicKey: pub, Fingerprint: fp}, true
}

// Fingerprint returns "SHA256:" and the unpadded base64 SHA-256 of the
// key's DER SubjectPublicKeyInfo.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding the public key: %v", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

func (c *compiler) identity(field string, d identityDoc) (Identity, bool) {
	ok := c.claimName(field, d.Name)
	id := Identity{Name: d.Name, Issuer: d.Issuer, Subject: d.Subject}
	var good bool
	id.IssuerRegExp, good = c.exactOrRegExp(field, "issuer", d.Issuer, "issuerRegExp", d.IssuerRegExp, "the OIDC issuer, such as \"https://token.actions.githubusercontent.com\"")
	ok = ok && good
	id.SubjectRegExp, good = c.exactOrRegExp(field, "subject", d.Subject, "subjectRegExp", d.SubjectRegExp, "the certificate subject, such as \"https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1\"")
	return id, ok && good
}

// exactOrRegExp checks that exactly one of an exact value and a regular
// expression is set and compiles the expression, anchored.
func (c *compiler) exactOrRegExp(field, exactName, exact, reName, re, what string) (*regexp.Regexp, bool) {
	switch {
	case exact != "" && re != "":
		c.errorf(field, "has both %q and %q; keep one", exactName, reName)
	case exact == "" && re == "":
		c.errorf(field, "needs %q or %q: %s", exactName, reName, what)
	case re != "":
		r, err := regexp.Compile(anchor(re))
		if err != nil {
			c.errorf(field+"."+reName, "%q is not a valid regular expression: %v; use Go (RE2) syntax", re, err)
			return nil, false
		}
		return r, true
	default:
		return nil, true
	}
	return nil, false
}

func (c *compiler) gpgKey(field string, g gpgKeyDoc) (GPGKey, bool) {
	named := c.claimName(field, g.Name)
	data, ok := c.content(field, "path", g.Path, "armored", g.Armored, "armored OpenPGP public key")
	if !ok || !named {
		return GPGKey{}, false
	}
	sub := field + ".armored"
	if g.Path != "" {
		sub = field + ".path"
	}
	entities, err := parseGPGKeyRing(data)
	if err != nil {
		c.errorf(sub, "%v", err)
		return GPGKey{}, false
	}
	key := GPGKey{Name: g.Name}
	want := strings.ToUpper(strings.ReplaceAll(g.Fingerprint, " ", ""))
	if _, err := hex.DecodeString(want); want != "" && (err != nil || len(want) != 40 && len(want) != 64) {
		c.errorf(field+".fingerprint", "%q is not a key fingerprint; write its 40 (or 64) hexadecimal digits, quoted", g.Fingerprint)
		return GPGKey{}, false
	}
	for _, e := range entities {
		if e.PrivateKey != nil {
			c.errorf(sub, "holds a private key; export only the public key with \"gpg --armor --export KEYID\" and keep the secret key secret")
			return GPGKey{}, false
		}
		fp := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
		if want != "" && fp != want {
			continue
		}
		key.Entities = append(key.Entities, e)
		key.Fingerprints = append(key.Fingerprints, fp)
	}
	if len(key.Entities) == 0 {
		c.errorf(field+".fingerprint", "%q matches no key in the key block; check the fingerprint with \"gpg --fingerprint\"", g.Fingerprint)
		return GPGKey{}, false
	}
	return key, true
}
