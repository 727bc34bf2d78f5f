package attest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestPendingSigner: a signer loaded in the background (signing.Start, as
// the CLI passes it) signs once its load is done, and a failed load fails
// the run with the load's error and writes nothing.
func TestPendingSigner(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	ctx := context.Background()
	key := sigstoretest.NewCosignKey(t, "pw")
	s := signing.Start(ctx, signing.Options{Key: key.PrivatePath, Password: []byte("pw")}, nil)
	if _, err := Run(ctx, Options{Dir: w.dir, Subject: "dist/app", Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: localBuilder(t), Signer: s}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "dist", "app"+BundleSuffix)); err != nil {
		t.Errorf("no bundle: %v", err)
	}

	bad := signing.Start(ctx, signing.Options{Key: key.PrivatePath, Password: []byte("wrong password")}, nil)
	_, err := Run(ctx, Options{Dir: w.dir, Subject: "dist/lib.so", Kind: KindProvenance, Builder: githubBuilder(t), Signer: bad})
	if err == nil || !strings.Contains(err.Error(), "COSIGN_PASSWORD secret is wrong") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Run() error = %v (code %v)", err, exitcode.Of(err))
	}
	if _, err := os.Stat(filepath.Join(w.dir, "dist", "lib.so"+BundleSuffix)); err == nil {
		t.Error("a bundle was written although the signer never loaded")
	}
}
