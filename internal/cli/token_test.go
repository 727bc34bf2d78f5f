package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/mariadb"
)

// The token commands on each database: the embedded SQLite of --data, or
// --database (no --data needed then).
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	for _, db := range serveDatabases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			where := []string{"--data", "data"}
			if flags := db.flags(t); flags != nil {
				where = flags
			}
			testTokenCommands(t, where)
		})
	}
}

func testTokenCommands(t *testing.T, where []string) {
	dir := t.TempDir()
	token := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, dir, nil, append(append([]string{"token"}, args...), where...)...)
	}
	code, out, errOut := token("create", "--scope", "upload,read", "--ttl", "720h", "--name", "ci")
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

	code, out, _ = token("list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "upload,read") || !strings.Contains(out, "active") {
		t.Fatalf("token list: exit %d, %q", code, out)
	}
	secret := tok[len(tok)-52:]
	if strings.Contains(out, secret) || strings.Contains(out, "argon2id") {
		t.Fatalf("token list shows a secret or a hash: %q", out)
	}

	if code, _, errOut = token("revoke", id); code != 0 {
		t.Fatalf("token revoke: exit %d, %q", code, errOut)
	}
	if _, out, _ = token("list"); !strings.Contains(out, "revoked") {
		t.Errorf("after revoke, token list says %q", out)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown scope", []string{"create", "--scope", "write"}, `unknown scope "write"`},
		{"no scope", []string{"create"}, `"scope"`},
		{"empty name", []string{"create", "--scope", "read", "--name", ""}, `input "name" is empty`},
		{"control character in name", []string{"create", "--scope", "read", "--name", "a\nb"}, `holds control characters`},
		{"unknown id", []string{"revoke", "aaaaaaaaaaaaaaaa"}, `no token has ID "aaaaaaaaaaaaaaaa"`},
		{"bad id", []string{"revoke", "../x"}, `is not a token ID`},
		{"no id", []string{"revoke"}, "takes one token ID, got 0"},
	} {
		code, _, errOut := token(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tt.name, code, errOut, tt.want)
		}
	}
}

// Where the tokens are not: no store named, or a database that cannot be
// reached or refuses the login. Exit 2 with the host named, never the
// password; a password on the command line is refused before any use.
func TestTokenDatabaseBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "hunter2-secret"
	writeFile(t, filepath.Join(dir, "pw"), secret+"\n")
	flags := mariadb.ServeFlags(t)
	wrongPW := append(append([]string(nil), flags[:2]...), "--database-password-file", "pw")
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no store", nil, []string{"list"}, []string{"give --data DIR", "--database mysql://"}},
		{"unreachable", nil, []string{"list", "--database", "mysql://u@127.0.0.1:1/meta", "--database-password-file", "pw"},
			[]string{`database "meta" on 127.0.0.1:1`, "connection refused", "check the host"}},
		{"wrong password", nil, append([]string{"list"}, wrongPW...), []string{"Access denied", "127.0.0.1:33306", "check the host"}},
		{"password on the command line", nil, []string{"list", "--database", "mysql://u:" + secret + "@127.0.0.1:1/meta"},
			[]string{"holds a password on the command line", "mysql://u:xxxxx@127.0.0.1:1/meta", "SLIPWAY_DATABASE_PASSWORD"}},
		{"password twice", map[string]string{"SLIPWAY_DATABASE_PASSWORD": secret}, []string{"list", "--database", "mysql://u@h/m", "--database-password-file", "pw"},
			[]string{"given twice"}},
		{"password without database", map[string]string{"SLIPWAY_DATABASE_PASSWORD": secret}, []string{"list", "--data", "data"},
			[]string{"without a mysql:// database"}},
		{"not mysql", nil, []string{"list", "--database", "postgres://u@h/m"}, []string{"is not a mysql:// URL"}},
		{"unknown parameter", nil, []string{"list", "--database", "mysql://u@h/m?sslmode=require"}, []string{`parameter "sslmode"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, dir, tt.env, append([]string{"token"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not say %q", errOut, w)
				}
			}
			if strings.Contains(out+errOut, secret) {
				t.Errorf("the password is in the output: %q %q", out, errOut)
			}
		})
	}
	// The URL with its password in SLIPWAY_DATABASE (not a process argument) is accepted.
	good := map[string]string{"SLIPWAY_DATABASE": strings.Replace(flags[1], "@", ":"+readPassword(t, flags[3])+"@", 1)}
	if code, _, errOut := runCLI(t, dir, good, "token", "list"); code != 0 {
		t.Errorf("token list with the password in SLIPWAY_DATABASE: exit %d, %q", code, errOut)
	}
}

func readPassword(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
