// Package gpgtest generates OpenPGP keys with the real gpg in a temporary
// GNUPGHOME and verifies signatures with "gpg --verify", for tests only.
// Its keys never leave t.TempDir.
package gpgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/tools"
)

// Key is a key pair held by a temporary gpg home.
type Key struct {
	// Home is the GNUPGHOME that holds the key pair.
	Home string
	// Armored is the armored secret key (gpg --armor --export-secret-keys).
	Armored []byte
	// Passphrase protects the secret key ("" for none).
	Passphrase string
	// Email is the key's user ID.
	Email string
}

// NewKey generates a key of algo ("ed25519", "rsa3072", "nistp384", …)
// with real gpg, protected by passphrase when it is not empty.
func NewKey(t testing.TB, algo, passphrase string) Key {
	t.Helper()
	gpg := tools.Require(t, "gpg")
	// gpg-agent's socket path must be short: keep the home near /tmp.
	home, err := os.MkdirTemp("", "gpgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	k := Key{Home: home, Passphrase: passphrase, Email: "release@slipway.test"}
	protect := "%no-protection"
	if passphrase != "" {
		protect = "Passphrase: " + passphrase
	}
	params := fmt.Sprintf("Key-Type: %s\nKey-Usage: sign\nName-Real: Slipway Test\nName-Email: %s\nExpire-Date: 0\n%s\n%%commit\n",
		keyType(algo), k.Email, protect)
	run(t, gpg, home, params, "--batch", "--pinentry-mode", "loopback", "--generate-key")
	args := []string{"--batch", "--armor", "--pinentry-mode", "loopback"}
	if passphrase != "" {
		args = append(args, "--passphrase", passphrase)
	}
	k.Armored = []byte(run(t, gpg, home, "", append(args, "--export-secret-keys", k.Email)...))
	return k
}

func keyType(algo string) string {
	switch {
	case algo == "ed25519":
		return "eddsa\nKey-Curve: ed25519"
	case strings.HasPrefix(algo, "nistp"):
		return "ecdsa\nKey-Curve: " + algo
	case strings.HasPrefix(algo, "rsa"):
		return "rsa\nKey-Length: " + strings.TrimPrefix(algo, "rsa")
	}
	return algo
}

func run(t testing.TB, gpg, home, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gpg, append([]string{"--homedir", home}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Verify runs "gpg --verify sig file" with the key's public half (in a
// fresh home that holds only the public key) and returns gpg's output and
// its error.
func (k Key) Verify(t testing.TB, sig, file string) (string, error) {
	t.Helper()
	gpg := tools.Require(t, "gpg")
	pub := run(t, gpg, k.Home, "", "--batch", "--armor", "--export", k.Email)
	home, err := os.MkdirTemp("", "gpgverify-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	_ = os.Chmod(home, 0o700)
	run(t, gpg, home, pub, "--batch", "--import")
	cmd := exec.Command(gpg, "--homedir", home, "--batch", "--status-fd", "1", "--verify", filepath.Clean(sig), filepath.Clean(file))
	out, err := cmd.CombinedOutput()
	return string(out), err
}
