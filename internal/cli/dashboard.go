package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/dashboard"
	"github.com/slipway/actions/internal/datadir"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/version"
)

// dashboardFlags are serve's inputs of the web dashboard (docs/dashboard.md).
type dashboardFlags struct {
	dashboard  bool
	sessionKey string
}

func (f *dashboardFlags) inputs() []input.Input {
	return []input.Input{
		input.Bool(&f.dashboard, input.Spec{Name: "dashboard", Env: "SLIPWAY_DASHBOARD", Default: "true",
			Description: "Serve the web dashboard at /ui/ (/ redirects there): pages read through this API with the signed-in person's own token (docs/dashboard.md)."}),
		input.String(&f.sessionKey, input.Spec{Name: "dashboard-session-key", Env: "SLIPWAY_DASHBOARD_SESSION_KEY",
			Description: "The file of the key sealing the dashboard's session cookies (32 random bytes in hex, mode 0600: openssl rand -hex 32); give replicas the same file so that they share sessions. Default DATA/dashboard-session.key, created on first start."}),
	}
}

// mounts are the dashboard's handlers in serve (none without --dashboard):
// /ui/ and the redirect of /. The dashboard calls this server's own API
// in-process (as /mcp does) with each session's token, so every page goes
// through the same authentication, scopes, rate limits and request log.
// api returns the API's handler; it is built after the mounts, and
// requests arrive only after.
func (f *dashboardFlags) mounts(rt *Runtime, dir datadir.Dir, publicURL string, secure bool, log *slog.Logger, api func() http.Handler) ([]server.Mount, error) {
	if !f.dashboard {
		return nil, nil
	}
	keyFile := dir.SessionKey()
	if f.sessionKey != "" {
		keyFile = rt.path(f.sessionKey)
	}
	if f.sessionKey == "" {
		if err := dir.Ensure(); err != nil {
			return nil, err
		}
	}
	key, err := sessionKey(keyFile, f.sessionKey == "")
	if err != nil {
		return nil, err
	}
	in := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api().ServeHTTP(w, r) })
	hc := &http.Client{Transport: cpclient.HandlerTransport{Handler: in},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// People reach the dashboard at the public URL: a proxy in front may
	// change the Host the server sees, so its origin is trusted by name.
	var trusted []string
	if u, err := url.Parse(publicURL); err == nil && publicURL != "" {
		trusted = append(trusted, u.Scheme+"://"+u.Host)
	}
	d, err := dashboard.New(dashboard.Options{Server: &url.URL{Scheme: "http", Host: "slipway.internal"}, HTTP: hc, Log: log,
		Version: version.String(), SessionKey: key, Secure: secure, TrustedOrigins: trusted})
	if err != nil {
		return nil, err
	}
	return []server.Mount{{Pattern: "/ui/", Handler: d.Handler()}, {Pattern: "GET /{$}", Handler: dashboard.Redirect()}}, nil
}

// sessionKey reads the session key in file, creating it (mode 0600, 32
// random bytes in hex) when create is set and it does not exist.
func sessionKey(file string, create bool) ([]byte, error) {
	info, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, dashboard.KeySize)
		rand.Read(key)
		if err := atomicfile.WriteFile(file, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("creating the dashboard's session key %q: %w", file, err)
		}
		return key, nil
	}
	switch {
	case err != nil:
		return nil, fmt.Errorf("input \"dashboard-session-key\": %w; give a file holding 32 random bytes in hex (openssl rand -hex 32 > FILE; chmod 600 FILE)", err)
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("input \"dashboard-session-key\": %q is not a regular file; give a file holding 32 random bytes in hex (openssl rand -hex 32 > FILE; chmod 600 FILE)", file)
	case info.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("the dashboard's session key %q has mode %04o: others can read it and forge sessions; run chmod 600 %q", file, info.Mode().Perm(), file)
	}
	raw, err := regfile.ReadAll(file, 1<<10)
	if err != nil {
		return nil, fmt.Errorf("reading the dashboard's session key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != dashboard.KeySize {
		return nil, fmt.Errorf("the dashboard's session key %q is not 32 bytes in hex; write one with openssl rand -hex 32 > %q", file, file)
	}
	return key, nil
}
