package cli

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// TestVerifyImageSignedByCosign: "slipway verify --image --key", as one
// would run "cosign verify --key", on an image the real cosign CLI signed
// the default way (its sha256-<hex>.sig tag, no transparency log).
func TestVerifyImageSignedByCosign(t *testing.T) {
	t.Parallel()
	cosign := tools.Require(t, "cosign")
	tag, d := registry.PushRandomImage(t, registry.Start(t), "team/app")
	dir := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=pw")
	for _, args := range [][]string{
		{"generate-key-pair"},
		{"sign", "--yes", "--key", "cosign.key", "--tlog-upload=false", "--allow-http-registry", "--allow-insecure-registry", tag.String()},
	} {
		cmd := exec.Command(cosign, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	code, stdout, stderr := runCLI(t, dir, nil, "verify", "--image", tag.String(), "--key", "cosign.pub", "--insecure-ignore-tlog")
	if code != 0 || !strings.Contains(stdout, "PASS digest     app:sha256-"+d.Hex+".sig layer 0: the signed payload names this image") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	other := sigstoretest.NewCosignKey(t, "")
	if err := os.WriteFile(filepath.Join(dir, "other.pub"), other.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, dir, nil, "verify", "--image", tag.String(), "--key", "other.pub", "--insecure-ignore-tlog")
	if code != 1 || !strings.Contains(stdout, "FAIL signature  app:sha256-"+d.Hex+".sig layer 0") {
		t.Errorf("another key: exit %d\n%s", code, stdout)
	}
}

// TestVerifyImageOutageOrVerdict: an image the registry says does not exist
// is a failed check (exit 1); a registry that refuses the connection is an
// outage, no verdict (exit 3, status error).
func TestVerifyImageOutageOrVerdict(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cosign.pub"), key.PublicPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := registry.Start(t)
	code, stdout, stderr := runCLI(t, dir, nil, "verify", "--image", addr+"/team/none:v1", "--key", "cosign.pub", "--insecure-ignore-tlog")
	if code != 1 || !strings.Contains(stdout, "FAIL bundle") {
		t.Errorf("missing image: exit %d, want 1 and a FAIL line\n%s\n%s", code, stdout, stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	code, stdout, stderr = runCLI(t, dir, nil, "verify", "--image", closed+"/team/app:v1", "--key", "cosign.pub", "--insecure-ignore-tlog", "--json")
	if code != 3 || !strings.Contains(stdout, `"status": "error"`) || !strings.Contains(stderr, "could not be made, none failed") {
		t.Errorf("refused connection: exit %d, want 3 and an error status\n%s\n%s", code, stdout, stderr)
	}
}
