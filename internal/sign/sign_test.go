package sign

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/gpgsign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// cosignCmd runs the real cosign CLI with a private HOME (no TUF cache, no
// docker config of the user).
func cosignCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := tools.Require(t, "cosign")
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "TUF_ROOT="+filepath.Join(home, "tuf"), "COSIGN_PASSWORD=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignSubjectWithCosignKeyAndGPG(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw-123")
	gkey := gpgtest.NewKey(t, "ed25519", "gpg-pass")
	dir := t.TempDir()
	file := writeFile(t, dir, "dist/app.tar", strings.Repeat("artifact bytes\n", 5000))

	res, err := Run(context.Background(), Options{
		Subject: "dist/app.tar", Sigstore: signing.Config{Key: key.PrivatePath, Password: key.Password},
		GPGKey: string(gkey.Armored), GPGPassphrase: "gpg-pass", Dir: dir,
	})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(res.Files) != 1 {
		t.Fatalf("files = %+v", res.Files)
	}
	f := res.Files[0]
	want, size, _ := digest.File(file)
	if f.Digest != want || f.Size != size || f.Name != "dist/app.tar" {
		t.Errorf("file = %+v, want digest %s size %d", f, want, size)
	}
	if f.Bundle() != "dist/app.tar.sigstore.json" || f.GPGSignature() != "dist/app.tar.asc" {
		t.Errorf("records = %+v", f.Records)
	}
	for _, r := range f.Records {
		if r.Role != artifact.RoleSignature || r.Describes != want {
			t.Errorf("record %+v does not describe the artifact", r)
		}
		if d, n, _ := digest.File(filepath.Join(dir, r.Path)); d != r.Digest || n != r.Size {
			t.Errorf("record %s digest/size do not match the written file", r.Path)
		}
	}
	if !strings.Contains(res.Identity, "gpg ") {
		t.Errorf("identity = %q", res.Identity)
	}

	tr := sigstoretest.WriteKeyOnlyTrustedRoot(t)
	bundle := filepath.Join(dir, f.Bundle())
	if out, err := cosignCmd(t, "verify-blob", "--key", key.PublicPath, "--new-bundle-format", "--bundle", bundle,
		"--trusted-root", tr, "--insecure-ignore-tlog", file); err != nil {
		t.Fatalf("cosign verify-blob rejects the bundle: %v\n%s", err, out)
	}
	if out, err := gkey.Verify(t, filepath.Join(dir, f.GPGSignature()), file); err != nil || !strings.Contains(out, "GOODSIG") {
		t.Fatalf("gpg --verify rejects the signature: %v\n%s", err, out)
	}

	writeFile(t, dir, "dist/app.tar", strings.Repeat("artifact bytez\n", 5000))
	if out, err := cosignCmd(t, "verify-blob", "--key", key.PublicPath, "--new-bundle-format", "--bundle", bundle,
		"--trusted-root", tr, "--insecure-ignore-tlog", file); err == nil {
		t.Fatalf("cosign verify-blob accepts the bundle for a tampered file:\n%s", out)
	}
	if out, err := gkey.Verify(t, filepath.Join(dir, f.GPGSignature()), file); err == nil {
		t.Fatalf("gpg --verify accepts the signature for a tampered file:\n%s", out)
	}
}

func TestSignSubjectBundlePathAndGPGOnly(t *testing.T) {
	t.Parallel()
	gkey := gpgtest.NewKey(t, "nistp384", "") // a key that cannot share the SHA-256 state
	dir := t.TempDir()
	file := writeFile(t, dir, "a.bin", "hello\n")
	res, err := Run(context.Background(), Options{Subject: file, GPGKey: string(gkey.Armored), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Files[0]
	if f.Bundle() != "" || f.GPGSignature() != "a.bin.asc" {
		t.Fatalf("records = %+v", f.Records)
	}
	if out, err := gkey.Verify(t, file+gpgsign.Extension, file); err != nil {
		t.Fatalf("gpg --verify: %v\n%s", err, out)
	}

	key := sigstoretest.NewCosignKey(t, "")
	res, err = Run(context.Background(), Options{Subject: "a.bin", Bundle: "out/custom.json", Sigstore: signing.Config{Key: key.PrivatePath}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Bundle() != "out/custom.json" {
		t.Fatalf("bundle = %q", res.Files[0].Bundle())
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "custom.json")); err != nil {
		t.Fatal(err)
	}
}

func writeManifest(t *testing.T, dir string, files ...string) string {
	t.Helper()
	m := artifact.NewManifest()
	for _, f := range files {
		d, n, err := digest.File(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m.Add(artifact.Record{Name: f, Path: f, Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	}
	m.Add(artifact.Record{Name: "registry.example/app", URI: "registry.example/app@" + digest.SHA256{1}.String(),
		Digest: digest.SHA256{1}, Size: 1, MediaType: "application/vnd.oci.image.manifest.v1+json", Role: artifact.RoleArtifact})
	p := filepath.Join(dir, "dist", "manifest.json")
	if err := m.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSignManifest(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	gkey := gpgtest.NewKey(t, "ed25519", "")
	dir := t.TempDir()
	writeFile(t, dir, "dist/a", "alpha\n")
	writeFile(t, dir, "dist/b", "bravo\n")
	mpath := writeManifest(t, dir, "dist/a", "dist/b")

	res, err := Run(context.Background(), Options{Manifest: "dist/manifest.json", Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, GPGKey: string(gkey.Armored), Dir: dir})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(res.Files) != 2 {
		t.Fatalf("signed %d files, want 2 (the image record is skipped)", len(res.Files))
	}
	m, err := artifact.ReadManifest(mpath)
	if err != nil {
		t.Fatal(err)
	}
	sigs := m.ByRole(artifact.RoleSignature)
	if len(sigs) != 4 {
		t.Fatalf("manifest has %d signature records, want 4: %+v", len(sigs), sigs)
	}
	tr := sigstoretest.WriteKeyOnlyTrustedRoot(t)
	for _, a := range m.ByRole(artifact.RoleArtifact)[:2] {
		recs := m.Describing(a.Digest)
		if len(recs) != 2 {
			t.Errorf("%s is described by %d records, want 2", a.Name, len(recs))
		}
		file := filepath.Join(dir, a.Path)
		if out, err := cosignCmd(t, "verify-blob", "--key", key.PublicPath, "--new-bundle-format", "--bundle", file+BundleExtension,
			"--trusted-root", tr, "--insecure-ignore-tlog", file); err != nil {
			t.Errorf("cosign verify-blob %s: %v\n%s", a.Name, err, out)
		}
		if out, err := gkey.Verify(t, file+gpgsign.Extension, file); err != nil {
			t.Errorf("gpg --verify %s: %v\n%s", a.Name, err, out)
		}
	}

	// Signing again replaces the records instead of adding more.
	if _, err := Run(context.Background(), Options{Manifest: mpath, Sigstore: signing.Config{Key: key.PrivatePath, Password: "pw"}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if m, _ = artifact.ReadManifest(mpath); len(m.ByRole(artifact.RoleSignature)) != 4 {
		t.Errorf("re-signing left %d signature records, want 4", len(m.ByRole(artifact.RoleSignature)))
	}
}

func TestSignManifestDetectsChangedFiles(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "")
	gkey := gpgtest.NewKey(t, "ed25519", "")
	tests := []struct {
		name    string
		content string
		gpg     bool
		want    string
	}{
		{"size changed, digest trusted", "alpha plus\n", false, "its size is 11 bytes, the manifest says 6"},
		{"same size, read for gpg", "alphA\n", true, "its SHA-256 is sha256:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, dir, "dist/a", "alpha\n")
			mpath := writeManifest(t, dir, "dist/a")
			before, _ := os.ReadFile(mpath)
			writeFile(t, dir, "dist/a", tc.content)
			o := Options{Manifest: mpath, Sigstore: signing.Config{Key: key.PrivatePath}, Dir: dir}
			if tc.gpg {
				o.GPGKey = string(gkey.Armored)
			}
			_, err := Run(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "changed since the manifest") {
				t.Fatalf("Run() error = %v, want %q", err, tc.want)
			}
			if exitcode.Of(err) != exitcode.Failed || exitcode.FileOf(err) == "" {
				t.Errorf("exit code %v, file %q", exitcode.Of(err), exitcode.FileOf(err))
			}
			after, _ := os.ReadFile(mpath)
			if string(after) != string(before) {
				t.Error("the manifest changed although signing failed")
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "f", "x")
	tests := []struct {
		name string
		o    Options
		want string
		code exitcode.Code
	}{
		{"nothing", Options{Sigstore: signing.Config{Key: "k"}}, "nothing to sign", exitcode.Usage},
		{"two targets", Options{Subject: "f", Image: "r/i", Sigstore: signing.Config{Key: "k"}}, "only one of subject, image and manifest", exitcode.Usage},
		{"no key", Options{Subject: "f"}, "no signing key", exitcode.Usage},
		{"key and keyless", Options{Subject: "f", Sigstore: signing.Config{Key: "k", Keyless: true}}, "not both", exitcode.Usage},
		{"gpg image", Options{Image: "r/i", GPGKey: "x"}, "a GPG key cannot sign an image", exitcode.Usage},
		{"bundle with manifest", Options{Manifest: "m", Bundle: "b", Sigstore: signing.Config{Key: "k"}}, "for subject only", exitcode.Usage},
		{"tlog without rekor", Options{Subject: "f", Sigstore: signing.Config{Key: "k", TLog: true}}, "rekor-url is empty", exitcode.Usage},
		{"missing subject", Options{Subject: "nope", Sigstore: signing.Config{Key: sigstoretest.NewCosignKey(t, "").PrivatePath}}, "does not exist", exitcode.Usage},
		{"wrong password", Options{Subject: "f", Sigstore: signing.Config{Key: sigstoretest.NewCosignKey(t, "right").PrivatePath, Password: "wrong"}}, "COSIGN_PASSWORD secret is wrong", exitcode.Usage},
		{"bad gpg key", Options{Subject: "f", GPGKey: "/path/to/key.asc"}, "secret GPG_PRIVATE_KEY", exitcode.Usage},
		{"keyless without permission", Options{Subject: "f", Sigstore: signing.Config{Keyless: true, FulcioURL: "http://127.0.0.1:1"}}, "permissions: id-token: write", exitcode.Usage},
		{"bad image ref", Options{Image: "UPPER/Case::x", Sigstore: signing.Config{Key: sigstoretest.NewCosignKey(t, "").PrivatePath}}, "parsing image reference", exitcode.Usage},
		{"missing manifest", Options{Manifest: "none.json", Sigstore: signing.Config{Key: sigstoretest.NewCosignKey(t, "").PrivatePath}}, "opening manifest", exitcode.Usage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Dir = dir
			_, err := Run(context.Background(), tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run() error = %v, want %q", err, tc.want)
			}
			if exitcode.Of(err) != tc.code {
				t.Errorf("exit code = %v, want %v", exitcode.Of(err), tc.code)
			}
		})
	}
}
