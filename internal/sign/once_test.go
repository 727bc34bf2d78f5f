//go:build linux

package sign

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestSubjectIsReadOnce signs a file and counts the bytes the process
// reads meanwhile (rchar in /proc/self/io): the subject is read once, for
// the bundle and both GPG signatures (shared SHA-256 state and a streamed
// SHA-512 for a P-384 key), which must still verify against the data. (A
// FIFO, which would prove it by blocking, is refused as a subject.) Not
// parallel: nothing else in the package reads meanwhile.
func TestSubjectIsReadOnce(t *testing.T) {
	key := sigstoretest.NewCosignKey(t, "pw")
	for _, algo := range []string{"ed25519", "nistp384"} {
		t.Run(algo, func(t *testing.T) {
			gkey := gpgtest.NewKey(t, algo, "")
			dir := t.TempDir()
			content := strings.Repeat("streamed once\n", 1<<20)
			writeFile(t, dir, "stream", content)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			before := readChars(t)
			res, err := Run(ctx, Options{Subject: "stream", Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, GPGKey: string(gkey.Armored), Dir: dir})
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if read := readChars(t) - before; read < int64(len(content)) || read > int64(len(content))*3/2 {
				t.Errorf("the process read %d bytes while signing a %d-byte subject: want it read once", read, len(content))
			}
			if res.Files[0].Size != int64(len(content)) {
				t.Fatalf("size = %d, want %d", res.Files[0].Size, len(content))
			}
			plain := filepath.Join(dir, "stream")
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

// readChars is how many bytes this process has read so far (rchar).
func readChars(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no rchar in /proc/self/io")
	return 0
}
