package idtoken

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// MaxTokenSize bounds a token; GitHub's are about 1.5 KB.
const MaxTokenSize = 16 << 10

// header is the JOSE header of a compact JWS, as far as this package reads
// it before verifying: to refuse a wrong algorithm or an unknown key with a
// message that says so.
type header struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit"`
}

// parseHeader checks that raw is a compact JWS (three base64url parts, no
// padding) and decodes its header. Errors never quote raw.
func parseHeader(raw string) (header, *Error) {
	var h header
	if len(raw) > MaxTokenSize {
		return h, refuse(CheckFormat, "it is %d bytes, more than %d; send the ID token the GitHub Actions runtime gave, alone", len(raw), MaxTokenSize)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, refuse(CheckFormat, "it has %d dot-separated parts, want 3 (header.payload.signature); send the JWT the runtime gave, without \"Bearer \" or quotes", len(parts))
	}
	for i, p := range parts {
		if p == "" {
			return h, refuse(CheckFormat, "part %d of 3 is empty; an ID token is signed, so none of its parts is", i+1)
		}
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return h, refuse(CheckFormat, "part %d of 3 is not unpadded base64url; send the JWT as the runtime gave it", i+1)
		}
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[0])
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&h); err != nil || dec.More() {
		return header{}, refuse(CheckFormat, "its header is not a JSON object with string \"alg\" and \"kid\"; send the JWT as the runtime gave it")
	}
	if len(h.Crit) > 0 {
		return header{}, refuse(CheckFormat, "its header has critical extensions %q, which this server does not implement", h.Crit)
	}
	return h, nil
}

// unverifiedIssuer returns the "iss" claim of a compact JWS whose header
// parseHeader accepted, without verifying anything: it only chooses which
// issuer's Verifier to ask, which checks "iss" again once the signature
// verified.
func unverifiedIssuer(raw string) (string, *Error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", refuse(CheckFormat, "it has %d dot-separated parts, want 3 (header.payload.signature)", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", refuse(CheckFormat, "its payload is not unpadded base64url; send the JWT as the runtime gave it")
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Iss == "" {
		return "", refuse(CheckFormat, "its payload is not a JSON object with a string \"iss\"; is this an OIDC ID token?")
	}
	return c.Iss, nil
}
