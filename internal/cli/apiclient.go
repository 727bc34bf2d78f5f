package cli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/slipway/actions/internal/cpclient"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/upload"
)

// apiFlags are a control plane's URL and the caller's token, for the
// commands that use its API as a person or an agent (approve, mcp): the
// token from SLIPWAY_TOKEN or a file, never the command line.
type apiFlags struct {
	server, token, tokenFile string
}

func (f *apiFlags) inputs(scopes string) []input.Input {
	return []input.Input{
		input.String(&f.server, input.Spec{Name: "server", Env: "SLIPWAY_SERVER", Required: true,
			Description: "The control plane's base URL (https://slipway.example.org; plain http only to a loopback address)."}),
		input.String(&f.token, input.Spec{Name: "token", Env: "SLIPWAY_TOKEN", Secret: true,
			Description: "A service token of scopes " + scopes + " (from the environment only, never a flag)."}),
		input.String(&f.tokenFile, input.Spec{Name: "token-file", Env: "SLIPWAY_TOKEN_FILE",
			Description: "A file whose first line is the token, instead of SLIPWAY_TOKEN."}),
	}
}

// client checks the flags and returns a client of the server with the token.
func (f *apiFlags) client(rt *Runtime, scopes string) (*cpclient.Client, error) {
	base, tok, err := f.resolve(rt, scopes)
	if err != nil {
		return nil, err
	}
	return cpclient.New(base, tok, rt.Net.Client("control plane")), nil
}

// resolve checks the flags and returns the server's URL and the token
// (masked in logs from now on).
func (f *apiFlags) resolve(rt *Runtime, scopes string) (*url.URL, string, error) {
	base, err := upload.ServerURL(f.server)
	if err != nil {
		return nil, "", exitcode.BadInput(fmt.Errorf("input \"server\": %w", err))
	}
	tok := f.token
	switch {
	case tok != "" && f.tokenFile != "":
		return nil, "", exitcode.BadInputf("the token is given twice, in SLIPWAY_TOKEN and in token-file; give one")
	case f.tokenFile != "":
		b, err := regfile.ReadAll(rt.path(f.tokenFile), 4096)
		if err != nil {
			return nil, "", exitcode.WithFile(exitcode.BadInput(fmt.Errorf("input \"token-file\": %w", err)), f.tokenFile)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		tok = strings.TrimSpace(line)
		if tok == "" {
			return nil, "", exitcode.WithFile(exitcode.BadInputf("input \"token-file\": %q has no token on its first line; write the token slipway token create printed there", f.tokenFile), f.tokenFile)
		}
	case tok == "":
		return nil, "", exitcode.BadInputf("no token for the control plane: set SLIPWAY_TOKEN (or token-file) to a token of scopes %s (slipway token create --scope %s)", scopes, scopes)
	}
	rt.Report.Mask(tok)
	return base, tok, nil
}

// apiError gives a server's refusal its exit code: bad input for what the
// caller can fix (4xx), infrastructure otherwise.
func apiError(err error) error {
	if ce, ok := err.(*cpclient.Error); ok && ce.Status >= 400 && ce.Status < 500 {
		return exitcode.BadInput(err)
	}
	return exitcode.Infra(err)
}
