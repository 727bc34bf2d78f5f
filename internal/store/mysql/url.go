package mysql

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	driver "github.com/go-sql-driver/mysql"
)

// Scheme is the scheme of a --database URL naming a MySQL-compatible server.
const Scheme = "mysql"

// DefaultPort is the port of a URL that names none.
const DefaultPort = "3306"

// tlsModes are the values of the URL's tls parameter (go-sql-driver/mysql's names).
var tlsModes = []string{"true", "false", "skip-verify", "preferred"}

// ParseURL reads mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?tls=MODE&ca=FILE] into a driver
// configuration. tls is true (verify the server's certificate against the system's roots, or ca's), false,
// skip-verify (encrypt without checking who answers) or preferred (TLS when the server offers it); ca, a PEM
// file of the CA certificates to trust, implies tls=true. Errors never hold the password.
func ParseURL(raw string) (*driver.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// Not even the parser's reason: it can quote a piece of the password.
		return nil, fmt.Errorf("the database URL is not a URL; give it as mysql://USER@HOST:PORT/DATABASE, the port a number, and %%-escape special characters of the user and password (or give the password in SLIPWAY_DATABASE_PASSWORD)")
	}
	shown := u.Redacted()
	if u.Scheme != Scheme {
		return nil, fmt.Errorf("the database URL %q is not a %s:// URL; give mysql://USER@HOST:PORT/DATABASE, or no database for the embedded SQLite", shown, Scheme)
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("the database URL %q names no user; give mysql://USER@HOST:PORT/DATABASE", shown)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, fmt.Errorf("the database URL %q names no host; give mysql://USER@HOST:PORT/DATABASE", shown)
	}
	if port == "" {
		port = DefaultPort
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("the database URL %q does not name one database in its path; give mysql://USER@HOST:PORT/DATABASE", shown)
	}
	cfg := driver.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", net.JoinHostPort(host, port), name
	q := u.Query()
	for k := range q {
		if k != "tls" && k != "ca" {
			return nil, fmt.Errorf("the database URL %q has the parameter %q; the ones known are tls (%s) and ca (a PEM file of CA certificates)", shown, k, strings.Join(tlsModes, ", "))
		}
	}
	mode := q.Get("tls")
	if mode != "" && !contains(tlsModes, mode) {
		return nil, fmt.Errorf("the database URL %q has tls=%q; give one of %s", shown, mode, strings.Join(tlsModes, ", "))
	}
	if ca := q.Get("ca"); ca != "" {
		if mode != "" && mode != "true" {
			return nil, fmt.Errorf("the database URL %q has ca with tls=%q; ca checks the server's certificate: use it with tls=true or without tls", shown, mode)
		}
		name, err := registerCA(ca, host)
		if err != nil {
			return nil, fmt.Errorf("the database URL %q: %w", shown, err)
		}
		mode = name
	}
	cfg.TLSConfig = mode // by name, so that FormatDSN keeps it
	return cfg, nil
}

// registerCA registers a TLS configuration trusting the CA certificates in the PEM file at path for host, under
// a name derived from both, and returns the name.
func registerCA(path, host string) (string, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the CA file: %w; give ca a PEM file of the CA certificates the server's certificate chains to", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return "", fmt.Errorf("the CA file %q holds no PEM certificate; give ca a PEM file of CA certificates", path)
	}
	sum := sha256.Sum256(append(append(pem, 0), host...))
	name := "slipway-ca-" + hex.EncodeToString(sum[:8])
	err = driver.RegisterTLSConfig(name, &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12})
	return name, err
}

// Redact returns the database URL raw without its password (for logs and messages); an unparseable URL is not
// repeated at all.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a database URL that does not parse)"
	}
	return u.Redacted()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
