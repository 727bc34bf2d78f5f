package signing

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// TestCosignVerifyBlob proves the contract with the real cosign CLI: a
// key-based bundle over a precomputed digest verifies with
// "cosign verify-blob --key --new-bundle-format", and fails once the file
// changes.
func TestCosignVerifyBlob(t *testing.T) {
	t.Parallel()
	cosignBin := tools.Require(t, "cosign")
	s, key := newKeySigner(t)
	dir := t.TempDir()
	file, bundlePath := signFile(t, s, dir, "app.tar", strings.Repeat("slipway ", 4096))
	tr := sigstoretest.WriteKeyOnlyTrustedRoot(t)
	verifyBlob := func() (string, error) {
		cmd := exec.Command(cosignBin, "verify-blob", "--key", key.PublicPath, "--new-bundle-format",
			"--bundle", bundlePath, "--trusted-root", tr, "--insecure-ignore-tlog", file)
		cmd.Env = append(os.Environ(), "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := verifyBlob(); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob rejects our bundle: %v\n%s", err, out)
	}
	if err := os.WriteFile(file, []byte(strings.Repeat("slipway!", 4096)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyBlob(); err == nil {
		t.Fatalf("cosign verify-blob accepts the bundle for a changed file:\n%s", out)
	}
}

// signFile writes content to dir/name, signs its digest with s and writes
// the bundle next to it as name.sigstore.json; it returns both paths.
func signFile(t *testing.T, s *Signer, dir, name, content string) (file, bundlePath string) {
	t.Helper()
	file = filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _, err := digest.File(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SignDigest(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	bundlePath = file + ".sigstore.json"
	if err := WriteBundle(bundlePath, b); err != nil {
		t.Fatal(err)
	}
	return file, bundlePath
}
