package cli

import (
	"regexp"
	"strings"
	"testing"
)

func TestTokenCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runCLI(t, dir, nil, "token", "create", "--data", "data", "--scope", "upload,read", "--ttl", "720h", "--name", "ci")
	if code != 0 {
		t.Fatalf("token create: exit %d, stderr %q", code, errOut)
	}
	m := regexp.MustCompile(`(?m)^id=([a-z2-7]{16})\ntoken=(slw_[a-z2-7]{16}_[a-z2-7]{52})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed %q, want id=ID and token=VALUE lines", out)
	}
	id, tok := m[1], m[2]
	if !strings.HasPrefix(tok, "slw_"+id+"_") {
		t.Errorf("token %q does not carry its ID %q", tok, id)
	}

	code, out, _ = runCLI(t, dir, map[string]string{"SLIPWAY_DATA": "data"}, "token", "list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "upload,read") || !strings.Contains(out, "active") {
		t.Fatalf("token list: exit %d, %q", code, out)
	}
	secret := tok[len(tok)-52:]
	if strings.Contains(out, secret) || strings.Contains(out, "argon2id") {
		t.Fatalf("token list shows a secret or a hash: %q", out)
	}

	if code, _, errOut = runCLI(t, dir, nil, "token", "revoke", "--data", "data", id); code != 0 {
		t.Fatalf("token revoke: exit %d, %q", code, errOut)
	}
	if _, out, _ = runCLI(t, dir, nil, "token", "list", "--data", "data"); !strings.Contains(out, "revoked") {
		t.Errorf("after revoke, token list says %q", out)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown scope", []string{"create", "--data", "data", "--scope", "write"}, `unknown scope "write"`},
		{"no scope", []string{"create", "--data", "data"}, `"scope"`},
		{"no data", []string{"list"}, `"data"`},
		{"unknown id", []string{"revoke", "--data", "data", "aaaaaaaaaaaaaaaa"}, `no token has ID "aaaaaaaaaaaaaaaa"`},
		{"bad id", []string{"revoke", "--data", "data", "../x"}, `is not a token ID`},
		{"no id", []string{"revoke", "--data", "data"}, "takes one token ID, got 0"},
	} {
		code, _, errOut := runCLI(t, dir, nil, append([]string{"token"}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errOut, tt.want)
		}
	}
}
