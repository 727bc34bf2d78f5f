package attest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

// TestDeferred: a deferred signer signs once its load is done, and a failed
// load fails the run with the load's error and writes nothing.
func TestDeferred(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	ctx := context.Background()
	release := make(chan struct{})
	s := Deferred(ctx, func(context.Context) (Signer, error) {
		<-release
		return newTestSigner(t), nil
	})
	close(release)
	if _, err := Run(ctx, Options{Dir: w.dir, Subject: "dist/app", Manifest: "dist/manifest.json", Kind: KindProvenance, Builder: localBuilder(t), Signer: s}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "dist", "app"+BundleSuffix)); err != nil {
		t.Errorf("no bundle: %v", err)
	}

	bad := Deferred(ctx, func(context.Context) (Signer, error) {
		return nil, exitcode.BadInputf("decrypting cosign key: wrong password")
	})
	_, err := Run(ctx, Options{Dir: w.dir, Subject: "dist/lib.so", Kind: KindProvenance, Builder: githubBuilder(t), Signer: bad})
	if err == nil || !strings.Contains(err.Error(), "wrong password") || exitcode.Of(err) != exitcode.Usage {
		t.Fatalf("Run() error = %v (code %v)", err, exitcode.Of(err))
	}
	if _, err := os.Stat(filepath.Join(w.dir, "dist", "lib.so"+BundleSuffix)); err == nil {
		t.Error("a bundle was written although the signer never loaded")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	never := Deferred(loadCtx, func(ctx context.Context) (Signer, error) { <-ctx.Done(); return nil, ctx.Err() })
	if _, err := never.SignDSSE(cancelled, "x", nil); err == nil {
		t.Error("SignDSSE on a cancelled context did not fail")
	}
}
