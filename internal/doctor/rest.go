package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// restVersions are the OpenAPI versions tried, newest first: v0.0.38 is Slurm 22.05's, v0.0.40–v0.0.42 are
// 23.11–25.05's.
var restVersions = []string{"v0.0.42", "v0.0.41", "v0.0.40", "v0.0.39", "v0.0.38"}

const restFix = "run slurmrestd with -a rest_auth/jwt and SLURM_JWT=daemon as a dedicated user, with AuthAltTypes=auth/jwt and AuthAltParameters=jwt_key=FILE (owner SlurmUser, mode 0600) in slurm.conf"

func checkREST(ctx context.Context, s *state) {
	if s.o.Backend != "rest" && s.o.RESTURL == "" {
		return
	}
	base := strings.TrimRight(s.o.RESTURL, "/")
	if u, err := url.Parse(base); base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		s.r.problem("slurmrestd", fmt.Sprintf("the slurmrestd URL %q is not an http(s) URL", s.o.RESTURL),
			"give --rest-url http://HOST:6820 (where slurmrestd listens)")
		return
	}
	tok := s.o.JWT
	if tok == "" {
		if !s.controller {
			s.r.problem("slurmrestd", "no token for slurmrestd: SLURM_JWT is unset and scontrol token needs slurmctld",
				"set SLURM_JWT to a token from scontrol token, or fix slurmctld first")
			return
		}
		args := []string{"token", "lifespan=120"}
		if s.o.RESTUser != s.user {
			args = append(args, "username="+s.o.RESTUser)
		}
		out, err := command(ctx, nil, "scontrol", args...)
		t, ok := strings.CutPrefix(strings.TrimSpace(out), "SLURM_JWT=")
		if err != nil || !ok || t == "" {
			why := "it printed no SLURM_JWT= line"
			if err != nil {
				why = err.Error()
			}
			s.r.problem("slurmrestd", "scontrol token failed: JWT is not enabled in slurmctld ("+why+")", restFix)
			return
		}
		tok = t
	}
	for _, v := range restVersions {
		code, body, err := restGet(ctx, s, base+"/slurm/"+v+"/ping", tok)
		if err != nil {
			s.r.problem("slurmrestd", fmt.Sprintf("slurmrestd does not answer at %s (%v)", base, err),
				"start slurmrestd listening there ("+restFix+")")
			return
		}
		switch {
		case code == http.StatusNotFound:
			continue
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			s.r.problem("slurmrestd", fmt.Sprintf("slurmrestd at %s refused the request (%d): it does not take JWT tokens", base, code), restFix)
		case code != http.StatusOK:
			// Slurm 22.05 answers 500 "slurmctld config is unable to load" when slurmctld rejects the token.
			s.r.problem("slurmrestd", fmt.Sprintf("slurmrestd at %s answered %d with the token for %q (%s): slurmctld rejected it", base, code, s.o.RESTUser, restError(body)),
				"give a current token of that user (SLURM_JWT from scontrol token username=USER), and check that slurmctld has AuthAltTypes=auth/jwt with the key slurmrestd's tokens are signed with")
		case !pingUp(body):
			s.r.problem("slurmrestd", fmt.Sprintf("slurmrestd at %s answers, but its ping says slurmctld is not UP (%s)", base, restError(body)),
				"check that slurmrestd reaches slurmctld (the same slurm.conf, munge or auth/slurm)")
		default:
			s.restOK, s.jwt = true, tok
			s.r.ok("slurmrestd", "%s answers with OpenAPI %s; the token for %q is accepted", base, v, s.o.RESTUser)
		}
		return
	}
	s.r.problem("slurmrestd", fmt.Sprintf("slurmrestd at %s serves none of the OpenAPI versions %s", base, strings.Join(restVersions, ", ")),
		"load a supported plugin (slurmrestd -s openapi/v0.0.38 on Slurm 22.05; slurmctld,slurmdbd data parsers v0.0.40+ on 23.11+)")
}

func restGet(ctx context.Context, s *state, u, tok string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-SLURM-USER-NAME", s.o.RESTUser)
	req.Header.Set("X-SLURM-USER-TOKEN", tok)
	resp, err := s.o.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

type restAnswer struct {
	Errors []struct {
		Description string `json:"description"`
		Error       string `json:"error"`
	} `json:"errors"`
	Pings []struct {
		Ping       string `json:"ping"`
		Responding *bool  `json:"responding"`
	} `json:"pings"`
}

// pingUp reads a ping answer: v0.0.38 says "ping": "UP", v0.0.40+ "responding": true.
func pingUp(body []byte) bool {
	var a restAnswer
	if json.Unmarshal(body, &a) != nil || len(a.Pings) == 0 {
		return false
	}
	p := a.Pings[0]
	return p.Ping == "UP" || p.Responding != nil && *p.Responding
}

// restError is the first error slurmrestd's answer names, or a short excerpt.
func restError(body []byte) string {
	var a restAnswer
	if json.Unmarshal(body, &a) == nil && len(a.Errors) > 0 {
		if a.Errors[0].Description != "" {
			return fmt.Sprintf("%q", a.Errors[0].Description)
		}
		return fmt.Sprintf("%q", a.Errors[0].Error)
	}
	b := strings.TrimSpace(string(body))
	if len(b) > 120 {
		b = b[:120]
	}
	return fmt.Sprintf("%q", b)
}
