package cli

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/token"
	"github.com/slipway/actions/internal/upload"
)

// TestServeAdmitRealStages: a release made by the real stages (build,
// sbom, sign, attest with a cosign key) is uploaded by the upload client to
// a server on a real listener, admitted, and its receipt verifies offline,
// alone and through slipway verify with receipts required.
func TestServeAdmitRealStages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	env := release(t, dir, "")

	data := t.TempDir()
	pol, err := policy.Load(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := blobstore.NewFS(filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	tlog.RouteTesseraLogs(slog.New(slog.DiscardHandler))
	tl, err := tlog.Open(ctx, filepath.Join(data, "log"), tlog.Options{Origin: "slipway.test/serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close(ctx)
	tokens := token.NewManager(db, token.WithParams(token.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}))
	tok, _, err := tokens.Create(ctx, token.CreateOptions{Name: "ci", Scopes: []token.Scope{token.Upload}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, Blobs: blobs, Auth: tokens, Policy: pol, TLog: tl,
		Uploads: filepath.Join(data, "uploads"), Staging: filepath.Join(data, "staging")})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	defer func() { cancel(); <-done }()

	res, err := upload.Upload(ctx, upload.Options{Server: "http://" + ln.Addr().String(), Manifest: "dist/manifest.json", Dir: dir,
		Token: func(context.Context) (string, error) { return tok, nil }, HTTP: http.DefaultClient})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	text, err := os.ReadFile(res.ReceiptPath)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := receipt.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := receipt.Verify(rc, nil, tl.Verifier()); err != nil {
		t.Fatalf("receipt does not verify offline: %v", err)
	}

	writeFile(t, filepath.Join(dir, "log.pub"), tl.VerifierKey()+"\n")
	p, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "policy-log.yaml"), string(p)+"log:\n  verifierKey: log.pub\n  receipts: required\n")
	code, stdout, stderr := runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy-log.yaml")
	if code != 0 || !strings.Contains(stdout, `PASS receipt`) || !strings.Contains(stdout, `log "slipway.test/serve" admitted "src/a.bin"`) {
		t.Fatalf("verify with receipts required: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// The manifest with its receipts, sent again: the same release.
	again, err := upload.Upload(ctx, upload.Options{Server: "http://" + ln.Addr().String(), Manifest: "dist/manifest.json", Dir: dir,
		Token: func(context.Context) (string, error) { return tok, nil }, HTTP: http.DefaultClient})
	if err != nil {
		t.Fatalf("upload again: %v", err)
	}
	if again.Created || again.Release.ID != res.Release.ID {
		t.Fatalf("upload again: created %v, release %q; want the first release %q", again.Created, again.Release.ID, res.Release.ID)
	}
}
