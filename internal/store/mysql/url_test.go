package mysql

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	ca := writeCA(t)
	tests := []struct {
		raw                           string
		user, pw, addr, db, tlsConfig string
		wantErr                       string
	}{
		{raw: "mysql://slipway@db.example.org/meta", user: "slipway", addr: "db.example.org:3306", db: "meta"},
		{raw: "mysql://u:p%40ss@10.0.0.5:33306/m?tls=true", user: "u", pw: "p@ss", addr: "10.0.0.5:33306", db: "m", tlsConfig: "true"},
		{raw: "mysql://u@[::1]:3307/m?tls=skip-verify", user: "u", addr: "[::1]:3307", db: "m", tlsConfig: "skip-verify"},
		{raw: "mysql://u@h/m?tls=preferred", user: "u", addr: "h:3306", db: "m", tlsConfig: "preferred"},
		{raw: "mysql://u@h/m?ca=" + ca, user: "u", addr: "h:3306", db: "m", tlsConfig: "slipway-ca-"},
		{raw: "postgres://u:hunter2@h/m", wantErr: `is not a mysql:// URL`},
		{raw: "mysql://h/m", wantErr: "names no user"},
		{raw: "mysql://u:hunter2@/m", wantErr: "names no host"},
		{raw: "mysql://u:hunter2@h", wantErr: "does not name one database"},
		{raw: "mysql://u:hunter2@h/a/b", wantErr: "does not name one database"},
		{raw: "mysql://u:hunter2@h/m?tls=maybe", wantErr: `tls="maybe"`},
		{raw: "mysql://u:hunter2@h/m?allowCleartextPasswords=true", wantErr: `parameter "allowCleartextPasswords"`},
		{raw: "mysql://u:hunter2@h/m?ca=/nonexistent/ca.pem", wantErr: "reading the CA file"},
		{raw: "mysql://u:hunter2@h/m?ca=" + ca + "&tls=skip-verify", wantErr: "use it with tls=true"},
		{raw: "mysql://u:hunter2@h:port/m", wantErr: "is not a URL"},
		{raw: "mysql://u:hunter2@h/m\x7f", wantErr: "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			cfg, err := ParseURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL = %v, want an error with %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.User != tt.user || cfg.Passwd != tt.pw || cfg.Addr != tt.addr || cfg.DBName != tt.db || !strings.HasPrefix(cfg.TLSConfig, tt.tlsConfig) || (tt.tlsConfig == "") != (cfg.TLSConfig == "") {
				t.Errorf("ParseURL = user %q pw %q addr %q db %q tls %q", cfg.User, cfg.Passwd, cfg.Addr, cfg.DBName, cfg.TLSConfig)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"mysql://u:hunter2@h:1/m?tls=true": "mysql://u:xxxxx@h:1/m?tls=true",
		"mysql://u@h/m":                    "mysql://u@h/m",
		"mysql://u:hunter2@h:port/m":       "(a database URL that does not parse)",
	} {
		if got := Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

// No input makes ParseURL panic, and no error repeats the password.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"mysql://u:pw@h:3306/db?tls=true", "mysql://u:pw@h/db?ca=x", "mysql://:@/", "mysql://u:pw@h:x/d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := ParseURL(raw)
		if err != nil {
			u, perr := url.Parse(raw)
			if perr != nil || u.User == nil {
				return
			}
			if pw, ok := u.User.Password(); ok && len(pw) >= 4 && !strings.Contains(u.Redacted(), pw) && strings.Contains(err.Error(), pw) {
				t.Errorf("error %q shows the password %q", err, pw)
			}
			return
		}
		if cfg.User == "" || cfg.DBName == "" || cfg.Addr == "" {
			t.Errorf("ParseURL(%q) accepted a configuration without user, database or address: %+v", raw, cfg)
		}
	})
}

// writeCA writes a self-signed CA certificate (PEM) and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
