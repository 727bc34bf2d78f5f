package signing

import (
	"strings"
	"testing"
)

func TestParseKeyRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		kind    KeyKind
		scheme  string
		wantErr string
	}{
		{in: "", kind: KeyNone},
		{in: "  ", kind: KeyNone},
		{in: "cosign.key", kind: KeyFile},
		{in: "./keys/cosign.key", kind: KeyFile},
		{in: "C:/keys/x.key", kind: KeyFile},
		{in: "hashivault://release", kind: KeyKMS, scheme: "hashivault://"},
		{in: "awskms:///arn:aws:kms:us-east-1:111122223333:key/abc", kind: KeyKMS, scheme: "awskms://"},
		{in: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k", kind: KeyKMS, scheme: "gcpkms://"},
		{in: "azurekms://v.vault.azure.net/k", kind: KeyKMS, scheme: "azurekms://"},
		{in: "hashivault://", wantErr: "names no key"},
		{in: "HASHIVAULT://k", wantErr: "must be lower case"},
		{in: "vault://k", wantErr: `unknown scheme "vault://"`},
		{in: "https://example.com/cosign.key", wantErr: "unknown scheme"},
		{in: "awskms:/x", wantErr: "malformed KMS URI"},
		{in: "key\nname", wantErr: "control character"},
		{in: "env://COSIGN_KEY", kind: KeyEnvVar},
		{in: "env://release_key_2", kind: KeyEnvVar},
		{in: "env://", wantErr: "env://COSIGN_KEY"},
		{in: "ENV://COSIGN_KEY", wantErr: "env://COSIGN_KEY"},
		{in: "env://2KEY", wantErr: "env://COSIGN_KEY"},
		{in: "env://A-B", wantErr: "env://COSIGN_KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKeyRef(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseKeyRef(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeyRef(%q) error = %v", tc.in, err)
			}
			if got.Kind != tc.kind || got.Scheme != tc.scheme {
				t.Errorf("ParseKeyRef(%q) = %+v", tc.in, got)
			}
			if got.String() != strings.TrimSpace(tc.in) {
				t.Errorf("String() = %q, want %q", got.String(), strings.TrimSpace(tc.in))
			}
		})
	}
}

func FuzzParseKeyRef(f *testing.F) {
	for _, s := range []string{"", "cosign.key", "hashivault://k", "awskms:///arn", "gcpkms://p", "azurekms://v/k", "x://y", "awskms:/", "HASHIVAULT://", "env://COSIGN_KEY", "env://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseKeyRef(in)
		if err != nil {
			return
		}
		switch got.Kind {
		case KeyNone:
			if strings.TrimSpace(in) != "" {
				t.Fatalf("ParseKeyRef(%q) = keyless for a non-empty input", in)
			}
		case KeyEnvVar:
			if !isEnvName(got.Env) || got.String() != strings.TrimSpace(in) {
				t.Fatalf("ParseKeyRef(%q) = %+v", in, got)
			}
		case KeyKMS:
			if !strings.HasPrefix(got.URI, got.Scheme) || len(got.URI) == len(got.Scheme) {
				t.Fatalf("ParseKeyRef(%q) = %+v", in, got)
			}
		case KeyFile:
			if got.Path == "" || strings.ContainsAny(got.Path, "\x00\n\r") {
				t.Fatalf("ParseKeyRef(%q) = %+v", in, got)
			}
			if i := strings.Index(got.Path, "://"); i > 0 && isScheme(got.Path[:i]) {
				t.Fatalf("ParseKeyRef(%q) took a URI for a file: %+v", in, got)
			}
		}
	})
}
