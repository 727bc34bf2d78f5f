//go:build linux

package sign

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestSubjectIsReadOnce signs a named pipe: its content can be read only
// once, so a second read would block (and the test time out) or see no
// data. The bundle and both GPG signatures (shared SHA-256 state and a
// streamed SHA-512 for a P-384 key) must still verify against the data.
func TestSubjectIsReadOnce(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	for _, algo := range []string{"ed25519", "nistp384"} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			gkey := gpgtest.NewKey(t, algo, "")
			dir := t.TempDir()
			fifo := filepath.Join(dir, "stream")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			content := strings.Repeat("streamed once\n", 200000)
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				_, _ = f.WriteString(content)
				f.Close()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res, err := Run(ctx, Options{Subject: "stream", Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, GPGKey: string(gkey.Armored), Dir: dir})
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if res.Files[0].Size != int64(len(content)) {
				t.Fatalf("size = %d, want %d", res.Files[0].Size, len(content))
			}
			// Verify against a regular copy of what went through the pipe.
			plain := writeFile(t, dir, "plain", content)
			tr := sigstoretest.WriteKeyOnlyTrustedRoot(t)
			if out, err := cosignCmd(t, "verify-blob", "--key", key.PublicPath, "--new-bundle-format", "--bundle", filepath.Join(dir, res.Files[0].Bundle()),
				"--trusted-root", tr, "--insecure-ignore-tlog", plain); err != nil {
				t.Errorf("cosign verify-blob: %v\n%s", err, out)
			}
			if out, err := gkey.Verify(t, filepath.Join(dir, res.Files[0].GPGSignature()), plain); err != nil {
				t.Errorf("gpg --verify: %v\n%s", err, out)
			}
		})
	}
}
