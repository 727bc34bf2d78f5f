package sign

import (
	"context"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestSignImageVerifiesWithCosign signs an image in a real registry and
// verifies it with the real cosign CLI, in both storage formats.
func TestSignImageVerifiesWithCosign(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, _ := registry.PushRandomImage(t, addr, "team/app")
	key := sigstoretest.NewCosignKey(t, "pw")

	res, err := Run(context.Background(), Options{Image: tag.String(), Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	img := res.Image
	if !strings.HasPrefix(img.Ref, addr+"/team/app@sha256:") || img.SignatureTag != addr+"/team/app:sha256-"+img.Digest.Hex()+".sig" {
		t.Fatalf("image = %+v", img)
	}

	out, err := cosignCmd(t, "verify", "--key", key.PublicPath, "--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry", img.Ref)
	if err != nil {
		t.Fatalf("cosign verify --key rejects the image signature: %v\n%s", err, out)
	}
	if !strings.Contains(out, img.Digest.String()) {
		t.Errorf("cosign verify output lacks the digest:\n%s", out)
	}
	// By tag as well: cosign resolves it to the same digest.
	if out, err := cosignCmd(t, "verify", "--key", key.PublicPath, "--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry", tag.String()); err != nil {
		t.Fatalf("cosign verify by tag: %v\n%s", err, out)
	}

	tr := sigstoretest.WriteKeyOnlyTrustedRoot(t)
	out, err = cosignCmd(t, "verify", "--key", key.PublicPath, "--new-bundle-format", "--trusted-root", tr, "--insecure-ignore-tlog",
		"--allow-http-registry", "--allow-insecure-registry", img.Ref)
	if err != nil {
		t.Fatalf("cosign verify --new-bundle-format rejects the referrer bundle: %v\n%s", err, out)
	}

	// Another key's public half must not verify.
	other := sigstoretest.NewCosignKey(t, "")
	if out, err := cosignCmd(t, "verify", "--key", other.PublicPath, "--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry", img.Ref); err == nil {
		t.Fatalf("cosign verify accepts the signature with another key:\n%s", out)
	}
}

func TestSignImageNotFound(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	key := sigstoretest.NewCosignKey(t, "")
	_, err := Run(context.Background(), Options{Image: addr + "/nope/nothing:v1", Sigstore: signing.Config{Key: key.PrivatePath}, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("Run() error = %v, want not found", err)
	}
}

// TestSignImageWithKeyAndRekor: a key-based image signature logged in Rekor
// verifies with cosign verify --key against the log's key (no
// --insecure-ignore-tlog), in both formats.
func TestSignImageWithKeyAndRekor(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, _ := registry.PushRandomImage(t, addr, "team/logged")
	key := sigstoretest.NewCosignKey(t, "pw")
	ss := sigstoretest.Start(t, sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer))
	res, err := Run(context.Background(), Options{Image: tag.String(), Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw",
		TLog: true, RekorURL: ss.RekorURL}, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if n := ss.Entries.Load(); n != 2 {
		t.Errorf("Rekor has %d entries, want 2 (signature tag and referrer bundle)", n)
	}
	tr := ss.WriteTrustedRoot(t)
	for _, format := range [][]string{nil, {"--new-bundle-format"}} {
		args := append([]string{"verify", "--key", key.PublicPath, "--trusted-root", tr, "--allow-http-registry", "--allow-insecure-registry"}, format...)
		if out, err := cosignCmd(t, append(args, res.Image.Ref)...); err != nil {
			t.Fatalf("cosign %v rejects the logged signature: %v\n%s", args, err, out)
		}
	}
}
