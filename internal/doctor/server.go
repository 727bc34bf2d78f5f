package doctor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/registryref"
)

func checkServer(ctx context.Context, s *state) {
	if s.o.Server == "" {
		return
	}
	base := strings.TrimRight(s.o.Server, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.r.problem("server", fmt.Sprintf("the control plane URL %q is not an http(s) URL", s.o.Server), "give --server https://HOST (where slipway serve listens)")
		return
	}
	if u.Scheme == "http" && !registryref.IsLoopback(u.Hostname()) {
		s.r.problem("server", fmt.Sprintf("the control plane URL %q is plain http to another host: slipway upload and dispatch refuse to send a token there", s.o.Server),
			"serve the control plane over https (slipway serve --tls-cert/--tls-key, or a TLS proxy) and give its https URL")
		return
	}
	code, _, err := get(ctx, s, base+"/readyz")
	if err != nil {
		s.r.problem("server", fmt.Sprintf("the control plane does not answer at %s (%v)", base, err),
			"start slipway serve there (systemctl status slipway-serve) and check the URL, DNS, TLS and firewall from this host")
		return
	}
	if code != http.StatusOK {
		s.r.problem("server", fmt.Sprintf("the control plane at %s is not ready (GET /readyz: %d)", base, code),
			"see the server's log (journalctl -u slipway-serve): its metadata store does not answer, or it is shutting down")
		return
	}
	code, body, err := get(ctx, s, base+"/api/v1/log/key")
	key := strings.TrimSpace(string(body))
	if err != nil || code != http.StatusOK || key == "" || strings.ContainsAny(key, " \n") {
		why := fmt.Sprintf("%d", code)
		if err != nil {
			why = err.Error()
		}
		s.r.problem("server", fmt.Sprintf("the control plane at %s gives no log key (GET /api/v1/log/key: %s)", base, why),
			"check that the server at that URL is slipway serve (not a proxy's error page) and see its log")
		return
	}
	s.logKey = key
	s.r.ok("server", "%s is ready; log key %s", base, key)
}

func get(ctx context.Context, s *state, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := s.o.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, err
}

func checkPolicy(_ context.Context, s *state) {
	if s.o.Policy == "" {
		return
	}
	p, err := policy.Load(s.o.Policy)
	if err != nil {
		for _, e := range unjoin(err) {
			s.r.problem("policy", oneLine(e.Error()), "correct the trust policy (docs/policy.md); slipway verify --policy FILE shows the same errors")
		}
		return
	}
	if s.logKey != "" && p.Log.VerifierKey != "" && p.Log.VerifierKey != s.logKey {
		s.r.problem("policy", fmt.Sprintf("the policy's log.verifierKey %q is not the control plane's log key %q", p.Log.VerifierKey, s.logKey),
			"put the key GET /api/v1/log/key answers in the policy's log.verifierKey (or point --server at the right control plane)")
		return
	}
	s.r.ok("policy", "%s parses", s.o.Policy)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
