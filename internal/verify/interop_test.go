package verify_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// run runs a real CLI in dir with extra environment and returns its
// combined output, failing the test if it fails.
func runTool(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cosignKeys generates a cosign key pair in f.dir (cosign.key, cosign.pub)
// and returns the environment that unlocks it. The password lives only in
// the child processes' environment, never in their arguments.
func cosignKeys(t *testing.T, cosign string, f *fixture) []string {
	t.Helper()
	env := []string{"COSIGN_PASSWORD=slipway-test-" + filepath.Base(f.dir)}
	runTool(t, f.dir, env, cosign, "generate-key-pair")
	pub, err := os.ReadFile(filepath.Join(f.dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, "keys/cosign.pub", pub)
	f.extraKeys = append(f.extraKeys, "cosign")
	return env
}

// TestCosignInterop verifies bundles made by the real cosign CLI v2.6.2:
// sign-blob and attest-blob with a key, no transparency log, new bundle
// format.
func TestCosignInterop(t *testing.T) {
	t.Parallel()
	cosign := tools.Require(t, "cosign")
	f := newFixture(t)
	env := cosignKeys(t, cosign, f)
	runTool(t, f.dir, env, cosign, "sign-blob", "--yes", "--new-bundle-format", "--key", "cosign.key",
		"--tlog-upload=false", "--bundle", "app.tar.gz.sigstore.json", "app.tar.gz")
	pred := f.write(t, "predicate.json", mustJSON(t, f.provenance()))
	runTool(t, f.dir, env, cosign, "attest-blob", "--yes", "--new-bundle-format", "--key", "cosign.key",
		"--tlog-upload=false", "--type", "slsaprovenance1", "--predicate", pred, "--bundle", "app.tar.gz.intoto.sigstore.json", "app.tar.gz")
	p := f.policy(t, allowBuilders+requireSLSA+"maxAge: 1d\n")
	s := f.verify(t, p) // found next to the subject
	expect(t, s, true,
		`PASS signature  app.tar.gz.sigstore.json: sigstore bundle signed by key SHA256:`, `(policy key "cosign")`,
		"PASS digest     app.tar.gz.sigstore.json: the signed message digest is the subject's sha256:"+f.sum,
		`PASS signature  app.tar.gz.intoto.sigstore.json: sigstore bundle signed by key`,
		`PASS digest     app.tar.gz.intoto.sigstore.json: statement subject "app.tar.gz" has the subject's sha256:`+f.sum,
		`PASS builder    app.tar.gz.intoto.sigstore.json`, `PASS source     app.tar.gz.intoto.sigstore.json`,
		`PASS age        app.tar.gz.intoto.sigstore.json: provenance finishedOn`)

	// The same bundles no longer verify once the artifact changes.
	appendTo(t, f.subject, "tampered")
	expect(t, f.verify(t, p), false,
		"FAIL digest     app.tar.gz.sigstore.json: the bundle signs sha256:"+f.sum,
		"FAIL digest     app.tar.gz.intoto.sigstore.json: no subject of the https://slsa.dev/provenance/v1 statement")
}

// TestCosignWrongKey: a cosign bundle signed by a key the policy does not
// list fails.
func TestCosignWrongKey(t *testing.T) {
	t.Parallel()
	cosign := tools.Require(t, "cosign")
	f := newFixture(t)
	env := cosignKeys(t, cosign, f)
	f.extraKeys = nil // the policy trusts only f's own key
	runTool(t, f.dir, env, cosign, "sign-blob", "--yes", "--new-bundle-format", "--key", "cosign.key",
		"--tlog-upload=false", "--bundle", "app.tar.gz.sigstore.json", "app.tar.gz")
	expect(t, f.verify(t, f.policy(t, "")), false, "FAIL signature  app.tar.gz.sigstore.json: the signature does not verify with any policy key (release ")
}

// TestGPGInterop verifies detached armored signatures made by the real gpg
// 2.2 (Ed25519 and RSA keys, in a temporary GNUPGHOME).
func TestGPGInterop(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"ed25519", "rsa3072"} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			gpg := tools.Require(t, "gpg")
			key := gpgtest.NewKey(t, algo, "")
			f := newFixture(t)
			pub := runTool(t, f.dir, nil, gpg, "--homedir", key.Home, "--batch", "--armor", "--export", key.Email)
			f.write(t, "keys/maintainer.asc", []byte(pub))
			runTool(t, f.dir, nil, gpg, "--homedir", key.Home, "--batch", "--yes", "--detach-sign", "--armor", "-o", "app.tar.gz.asc", "app.tar.gz")
			p := f.policy(t, "maxAge: 1h\n")
			expect(t, f.verify(t, p), true,
				`PASS signature  app.tar.gz.asc: OpenPGP signature of the subject's content by key `, `(policy gpg key "maintainer")`,
				"PASS age        app.tar.gz.asc: OpenPGP signature time (claimed by the signer) ")

			appendTo(t, f.subject, "tampered")
			expect(t, f.verify(t, p), false, "FAIL signature  app.tar.gz.asc: the OpenPGP signature does not match the subject's content")
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
