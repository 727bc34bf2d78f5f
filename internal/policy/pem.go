package policy

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// privateMarker is in the header line of every PEM and armored private key
// ("-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PGP PRIVATE KEY BLOCK-----").
var privateMarker = []byte("PRIVATE KEY")

// parsePublicKey reads a PEM file that must hold exactly one public key
// (ECDSA, RSA or Ed25519) and nothing else: every block is looked at, so a
// private key after the public one, or text around the blocks, is refused,
// naming the block.
func parsePublicKey(data []byte) (crypto.PublicKey, error) {
	if err := refusePrivate(data, "PEM block", "put cosign.pub here and keep the private key secret"); err != nil {
		return nil, err
	}
	blocks, err := pemBlocks(data)
	if err != nil {
		return nil, err
	}
	var pub *pem.Block
	for i, b := range blocks {
		switch {
		case b.Type != "PUBLIC KEY":
			return nil, fmt.Errorf("PEM block %d of %d is a %q block; want one \"PUBLIC KEY\" block (a PKIX public key such as cosign.pub)", i+1, len(blocks), b.Type)
		case pub != nil:
			return nil, fmt.Errorf("PEM block %d of %d is a second public key; give each key its own entry under keys", i+1, len(blocks))
		}
		pub = b
	}
	key, err := x509.ParsePKIXPublicKey(pub.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the public key does not parse: %v; give a PKIX public key such as cosign.pub", err)
	}
	switch key.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return key, nil
	}
	return nil, fmt.Errorf("the public key is a %T; want ECDSA, RSA or Ed25519", key)
}

// pemBlocks decodes every PEM block of data and refuses anything between,
// before or after them but white space.
func pemBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	rest := data
	for {
		trimmed := bytes.TrimLeft(rest, " \t\r\n")
		if len(trimmed) == 0 {
			break
		}
		n := len(blocks) + 1
		if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
			if n == 1 {
				return nil, errors.New("holds no PEM block; give a public key such as cosign.pub (\"-----BEGIN PUBLIC KEY-----\")")
			}
			return nil, fmt.Errorf("has text after PEM block %d that is not a PEM block; remove it", n-1)
		}
		b, r := pem.Decode(trimmed)
		if b == nil || !bytes.HasPrefix(trimmed, []byte("-----BEGIN "+b.Type+"-----")) {
			return nil, fmt.Errorf("PEM block %d does not decode; give the file as cosign or openssl wrote it", n)
		}
		blocks = append(blocks, b)
		rest = r
	}
	if len(blocks) == 0 {
		return nil, errors.New("holds no PEM block; give a public key such as cosign.pub (\"-----BEGIN PUBLIC KEY-----\")")
	}
	return blocks, nil
}

// refusePrivate refuses data holding a private key anywhere: in a block
// that decodes or not, or in text around the blocks. It names the block by
// its number among the "-----BEGIN" lines.
func refusePrivate(data []byte, block, fix string) error {
	i := bytes.Index(data, privateMarker)
	if i < 0 {
		return nil
	}
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	if j := bytes.LastIndex(data[:i], []byte("-----BEGIN ")); j >= start {
		start = j // a block glued to the end of the previous one
	}
	line := bytes.TrimSpace(firstLine(data[start:]))
	n, total := bytes.Count(data[:i], []byte("-----BEGIN ")), bytes.Count(data, []byte("-----BEGIN "))
	if n > 0 && bytes.HasPrefix(line, []byte("-----BEGIN ")) {
		return fmt.Errorf("%s %d of %d holds a private key (%s); a policy names public keys only: %s (and rotate it if this file was shared)", block, n, total, line, fix)
	}
	return fmt.Errorf("holds a private key (%q, after %s %d); a policy names public keys only: %s (and rotate it if this file was shared)", line, block, n, fix)
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// parseGPGKeyRing reads every armored block of data as OpenPGP public
// keys. A private key block anywhere, a block of another type, or text
// outside the blocks is refused, naming the block.
func parseGPGKeyRing(data []byte) (openpgp.EntityList, error) {
	const begin = "-----BEGIN PGP "
	if err := refusePrivate(data, "armored block", "export only the public key with \"gpg --armor --export KEYID\" and keep the secret key secret"); err != nil {
		return nil, err
	}
	var out openpgp.EntityList
	rest := bytes.TrimLeft(data, " \t\r\n")
	if len(rest) == 0 || !bytes.HasPrefix(rest, []byte(begin)) {
		return nil, errors.New("is not an armored OpenPGP public key (no \"-----BEGIN PGP PUBLIC KEY BLOCK-----\"); export it with \"gpg --armor --export KEYID\"")
	}
	for n := 1; len(rest) > 0; n++ {
		end := bytes.Index(rest[1:], []byte(begin))
		block := rest
		if end >= 0 {
			block, rest = rest[:end+1], rest[end+1:]
		} else {
			rest = nil
		}
		if !bytes.HasPrefix(block, []byte(begin+"PUBLIC KEY BLOCK-----")) {
			return nil, fmt.Errorf("armored block %d is %q, not a public key block; export the key with \"gpg --armor --export KEYID\"", n, bytes.TrimSpace(firstLine(block)))
		}
		if i := bytes.Index(block, []byte("-----END PGP PUBLIC KEY BLOCK-----")); i < 0 {
			return nil, fmt.Errorf("armored block %d has no end line; export the key again", n)
		} else if tail := bytes.TrimSpace(block[i+len("-----END PGP PUBLIC KEY BLOCK-----"):]); len(tail) > 0 {
			return nil, fmt.Errorf("has text after armored block %d that is not an armored block; remove it", n)
		}
		entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(block))
		if err != nil {
			return nil, fmt.Errorf("armored block %d is not an OpenPGP public key: %v; export it with \"gpg --armor --export KEYID\"", n, err)
		}
		out = append(out, entities...)
	}
	return out, nil
}
