package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/attest"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// admitRef asks the server to admit an image by reference.
func admitRef(t testing.TB, url, tok, ref string) (int, admission, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"reference": ref})
	code, b, _ := doH(t, http.MethodPost, url+"/api/v1/releases", tok, body, http.Header{"Content-Type": {server.ReferenceMediaType}})
	var a admission
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("POST /api/v1/releases (reference %s): %d %s: %v", ref, code, b, err)
	}
	return code, a, b
}

// signImage signs the image ref with the cosign key at keyPath (password
// pw) and attests its SLSA provenance (builder testBuilder, source
// repository testSource), as slipway sign --image and attest --image do.
func signImage(t testing.TB, ref, keyPath, pw string) {
	t.Helper()
	ctx := context.Background()
	if _, err := sign.Run(ctx, sign.Options{Image: ref, Sigstore: signing.Config{Key: keyPath, Password: pw}, Dir: t.TempDir()}); err != nil {
		t.Fatalf("sign.Run(%s) = %v", ref, err)
	}
	dir := t.TempDir()
	m := artifact.NewManifest()
	now := time.Now().UTC()
	m.Build = &artifact.BuildInfo{Command: "make image", Repository: testSource, Ref: "refs/tags/v1",
		Commit: "0123456789abcdef0123456789abcdef01234567", StartedOn: now.Add(-time.Minute), FinishedOn: now}
	if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	signer, err := signing.New(ctx, signing.Options{Key: keyPath, Password: []byte(pw)})
	if err != nil {
		t.Fatal(err)
	}
	builder, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: func(string) string { return "" }, ConfiguredID: testBuilder})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Run(ctx, attest.Options{Dir: dir, Manifest: "manifest.json", Image: ref, Kind: attest.KindProvenance, Builder: builder, Signer: signer}); err != nil {
		t.Fatalf("attest.Run(%s) = %v", ref, err)
	}
}

// TestAdmitByReference: an image in a real registry (the distribution
// registry), signed and attested by the sign and attest stages, is admitted
// by reference: copied with its referrers and cosign tags into the blob
// store, verified there, logged, answered 201 with a receipt that verifies;
// the same reference again is the same release. An unsigned image, one
// with an untrusted extra signature, a digest the registry does not hold:
// refused with the check, logged. A tag, and a private registry on a server
// that does not allow them: refused before anything is read.
func TestAdmitByReference(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	tag, d := registry.PushRandomImage(t, addr, "team/app")
	signImage(t, tag.String(), key.PrivatePath, "pw")
	_, ud := registry.PushRandomImage(t, addr, "team/unsigned")
	extraTag, xd := registry.PushRandomImage(t, addr, "team/extra")
	signImage(t, extraTag.String(), key.PrivatePath, "pw")
	other := sigstoretest.NewCosignKey(t, "")
	if _, err := sign.Run(context.Background(), sign.Options{Image: extraTag.String(), Sigstore: signing.Config{Key: other.PrivatePath}, Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}

	pdir := t.TempDir()
	policytest.WriteFile(t, pdir, "cosign.pub", key.PublicPEM)
	pol := policytest.WriteFile(t, pdir, "policy.yaml", []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\nbuilders: ["+testBuilder+"]\n"))
	site := startSite(t, pol, func(c *server.Config) { c.AllowPrivateRegistries = true })
	tok := site.token(t, "ci", token.Upload, token.Read)
	ref := addr + "/team/app@" + d.String()

	code, first, body := admitRef(t, site.url, tok, ref)
	if code != http.StatusCreated || !strings.HasPrefix(first.ReleaseID, "r-") {
		t.Fatalf("admission by reference: %d %s", code, body)
	}
	rc := checkReceipt(t, site.tl.VerifierKey(), first.Receipt)
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != entry.KindReleaseAdmitted || len(e.Artifacts) != 1 || e.Artifacts[0].Name != addr+"/team/app" || e.Artifacts[0].SHA256 != d.Hex || e.Source != "https://github.com/acme/app" {
		t.Fatalf("entry = %+v", e)
	}
	roles := map[string]int{}
	for _, ev := range e.Evidence {
		roles[ev.Role]++
		if ev.Describes != d.Hex {
			t.Errorf("evidence %+v does not describe the image", ev)
		}
	}
	// sign: a referrer and the .sig tag; attest: a referrer and the .att tag.
	if roles["signature"] != 2 || roles["provenance"] != 1 || roles["attestation"] != 1 {
		t.Errorf("evidence roles %v, want 2 signatures, 1 provenance, 1 attestation: %+v", roles, e.Evidence)
	}
	if !strings.Contains(strings.Join(first.Checks, "\n"), "PASS builder") {
		t.Errorf("checks lack the builder: %q", first.Checks)
	}
	// The archive keeps the image: its manifest is an admitted artifact.
	code, got, _ := do(t, "GET", site.url+"/api/v1/artifacts/"+d.String(), tok, nil)
	if code != http.StatusOK || !json.Valid(got) {
		t.Fatalf("GET the image manifest: %d", code)
	}
	// Its "manifest" is the reference document its digest is of.
	code, got, _ = do(t, "GET", site.url+"/api/v1/releases/"+first.ReleaseID+"/manifest", tok, nil)
	if code != http.StatusOK || fmt.Sprintf("sha256:%x", sha256.Sum256(got)) != first.Manifest || !strings.Contains(string(got), `"reference"`) {
		t.Errorf("GET the manifest of a release by reference: %d %s", code, got)
	}
	// Every manifest and blob of the copy is a file of the release, at its
	// path in an OCI image layout, with the role of the part it belongs to.
	code, got, _ = do(t, "GET", site.url+"/api/v1/releases/"+first.ReleaseID+"/files", tok, nil)
	var files struct {
		Files []struct{ Role, Path, Digest, Describes string }
	}
	if err := json.Unmarshal(got, &files); code != http.StatusOK || err != nil {
		t.Fatalf("GET the files of a release by reference: %d %s", code, got)
	}
	byRole := map[string]int{}
	for _, f := range files.Files {
		byRole[f.Role]++
		if f.Path != "image/blobs/sha256/"+strings.TrimPrefix(f.Digest, "sha256:") || (f.Role != "artifact") != (f.Describes == d.String()) {
			t.Errorf("file %+v", f)
		}
	}
	// The image: manifest, config, two layers.
	if byRole["artifact"] != 4 || byRole["signature"] == 0 || byRole["provenance"] == 0 || byRole["attestation"] == 0 {
		t.Errorf("files by role %v", byRole)
	}
	code, got, _ = do(t, "GET", site.url+"/api/v1/releases/"+first.ReleaseID+"/files/image/blobs/sha256/"+d.Hex, tok, nil)
	if code != http.StatusOK || fmt.Sprintf("%x", sha256.Sum256(got)) != d.Hex {
		t.Errorf("GET the image manifest as a file of the release: %d", code)
	}
	size := treeSize(t, site)
	// The same image, spelled with its tag too: the same release, no entry.
	code, second, body := admitRef(t, site.url, tok, addr+"/team/app:v1@"+d.String())
	if code != http.StatusOK || second.ReleaseID != first.ReleaseID || second.Receipt != first.Receipt {
		t.Fatalf("second admission: %d %s", code, body)
	}
	if n := treeSize(t, site); n != size {
		t.Fatalf("the log grew from %d to %d on a repeated reference", size, n)
	}

	for _, tc := range []struct{ name, ref, check, detail string }{
		{"unsigned", addr + "/team/unsigned@" + ud.String(), "bundle", "no Sigstore bundle is attached"},
		{"untrusted extra signature", addr + "/team/extra@" + xd.String(), "signature", "does not verify with any policy key"},
		{"not in the registry", addr + "/team/app@sha256:" + strings.Repeat("0", 64), "reference", "the registry does not have it (404)"},
	} {
		code, a, body := admitRef(t, site.url, tok, tc.ref)
		if code != http.StatusUnprocessableEntity || a.Check != tc.check || !strings.Contains(a.Detail, tc.detail) {
			t.Errorf("%s: %d %s; want 422 check %q", tc.name, code, body, tc.check)
			continue
		}
		rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt)
		if e, err := entry.Parse(rc.Entry); err != nil || e.Kind != entry.KindReleaseRejected || e.Check != tc.check {
			t.Errorf("%s: log entry %+v (%v), want a rejection of check %q", tc.name, e, err, tc.check)
		}
	}

	code, a, body := admitRef(t, site.url, tok, tag.String())
	if code != http.StatusBadRequest || !strings.Contains(a.Detail, "names a tag") {
		t.Errorf("a tag: %d %s, want 400 asking for the digest", code, body)
	}
	small := startSite(t, pol, func(c *server.Config) { c.AllowPrivateRegistries, c.MaxBlobSize = true, 100 })
	code, a, body = admitRef(t, small.url, small.token(t, "ci", token.Upload), addr+"/team/extra@"+xd.String())
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(a.Detail, "limit of 100 bytes") {
		t.Errorf("an image with blobs over the server's limit: %d %s, want 413 naming the limit", code, body)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	code, a, body = admitRef(t, site.url, tok, down+"/team/app@"+d.String())
	if code != http.StatusBadGateway || !strings.HasSuffix(a.Type, "registry-unavailable") {
		t.Errorf("a registry that refuses connections: %d %s, want 502", code, body)
	}
	closed := startSite(t, pol)
	code, a, body = admitRef(t, closed.url, closed.token(t, "ci", token.Upload), ref)
	if code != http.StatusBadRequest || !strings.HasSuffix(a.Type, "registry-not-allowed") || !strings.Contains(a.Detail, "--allow-private-registries") {
		t.Errorf("a loopback registry on a server that does not allow it: %d %s", code, body)
	}
}
