package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// slipway log-key makes the key replicas share: mode 0600, its verifier
// beside it and printed, never printed itself, never replaced.
func TestLogKeyCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runCLI(t, dir, nil, "log-key", "--log-key", "keys/log.key", "--log-origin", "slipway.example/log")
	if code != 0 {
		t.Fatalf("log-key: exit %d, stderr %q", code, errOut)
	}
	key := filepath.Join(dir, "keys", "log.key")
	info, err := os.Stat(key)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", info, err)
	}
	raw, _ := os.ReadFile(key)
	if strings.Contains(out+errOut, strings.TrimSpace(string(raw))) || strings.Contains(out, "PRIVATE") {
		t.Fatal("log-key printed the signing key")
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "keys", "log.pub"))
	vkey := strings.TrimSpace(string(pub))
	if !strings.Contains(out, "verifier-key="+vkey+"\n") || !strings.Contains(out, "verifier-file="+filepath.Join(dir, "keys", "log.pub")) {
		t.Fatalf("log-key printed %q; want the verifier key %q and its file", out, vkey)
	}
	if v, err := note.NewVerifier(vkey); err != nil || v.Name() != "slipway.example/log" {
		t.Fatalf("verifier key %q: %v", vkey, err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"existing key", []string{"--log-key", "keys/log.key", "--log-origin", "slipway.example/log"}, "the file exists"},
		{"no origin", []string{"--log-key", "keys/other.key"}, `"log-origin"`},
		{"bad origin", []string{"--log-key", "keys/other.key", "--log-origin", "a b+c"}, "origin"},
	} {
		code, _, errOut := runCLI(t, dir, nil, append([]string{"log-key"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
	if after, _ := os.ReadFile(key); string(after) != string(raw) {
		t.Fatal("log-key replaced an existing key")
	}
}
