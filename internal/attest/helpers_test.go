package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// testSigner is the production signer (package signing) with a cosign key
// pair generated the way "cosign generate-key-pair" does: key-based Sigstore
// bundles v0.3 with a public key hint, no transparency log.
type testSigner struct {
	*signing.Signer
	pubPEM []byte
}

// shared is one signer for the whole package: a cosign key takes a second
// of scrypt to make, and a Signer is safe for concurrent use.
var shared struct {
	once sync.Once
	s    *testSigner
}

func newTestSigner(t testing.TB) *testSigner {
	t.Helper()
	shared.once.Do(func() { shared.s = newOtherSigner(t) })
	if shared.s == nil {
		t.Fatal("the shared test signer could not be made")
	}
	return shared.s
}

// newOtherSigner makes a signer with a key of its own.
func newOtherSigner(t testing.TB) *testSigner {
	t.Helper()
	key := sigstoretest.NewCosignKey(t, "test password")
	s, err := signing.New(context.Background(), signing.Options{Key: key.PrivatePath, Password: []byte(key.Password)})
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{Signer: s, pubPEM: key.PublicPEM}
}

// publicKeyPath writes the public key as cosign.pub for t and returns its path.
func (s *testSigner) publicKeyPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(p, s.pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// failingSigner fails every signature with err.
type failingSigner struct{ err error }

func (f failingSigner) SignDSSE(context.Context, string, []byte) (*bundle.Bundle, error) {
	return nil, f.err
}

func readBundle(t testing.TB, path string) *bundle.Bundle {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		t.Fatalf("reading bundle: %v", err)
	}
	return b
}

// openEnvelope verifies the bundle's DSSE envelope with pub and returns its
// payload type and payload.
func openEnvelope(t testing.TB, b *bundle.Bundle, pub crypto.PublicKey) (string, []byte, error) {
	t.Helper()
	env, err := b.Envelope()
	if err != nil {
		t.Fatalf("bundle has no envelope: %v", err)
	}
	raw := env.RawEnvelope()
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ssldsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: v})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Verify(context.Background(), raw); err != nil {
		return "", nil, err
	}
	payload, err := raw.DecodeB64Payload()
	if err != nil {
		t.Fatal(err)
	}
	return raw.PayloadType, payload, nil
}

type statementJSON struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

func parseStatement(t testing.TB, payload []byte) statementJSON {
	t.Helper()
	var st statementJSON
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("payload is not a statement: %v\n%s", err, payload)
	}
	return st
}

// workspace is a build's output: two artifacts, a CycloneDX and an SPDX
// SBOM of the first, and the manifest recording them.
type workspace struct {
	dir, manifest string
	m             *artifact.Manifest
	app, lib      artifact.Record
}

const cdxDoc = `{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {"component": {"type": "application", "name": "app", "bom-ref": "a<b>&c"}},
  "components": [{"type": "library", "name": "zlib", "version": "1.3.1", "hashes": [{"alg": "SHA-256", "content": "9a93b2b7dfdac77ceba5a558a580e74667dd6fede4585b91eefb60f03b72df23"}]}]
}
`

const spdxDoc = `{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app", "documentNamespace": "https://example.com/app", "creationInfo": {"created": "2026-11-25T10:00:00Z", "creators": ["Tool: test"]}, "packages": []}`

func writeFile(t testing.TB, path, content string) artifact.Record {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	d, n, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return artifact.Record{Digest: d, Size: n}
}

func newWorkspace(t testing.TB) *workspace {
	t.Helper()
	w := &workspace{dir: t.TempDir()}
	w.manifest = filepath.Join(w.dir, "dist", "manifest.json")
	w.m = artifact.NewManifest()
	w.m.Build = &artifact.BuildInfo{
		Command: "make dist", Repository: "git+https://github.com/slipway-demo/hello", Ref: "refs/heads/main",
		Commit: "4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4", SourceDateEpoch: 1764000000,
		StartedOn:  time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		FinishedOn: time.Date(2026, 11, 25, 10, 3, 0, 0, time.UTC),
	}
	add := func(name, content, mediaType string, role artifact.Role, describes digest.SHA256) artifact.Record {
		r := writeFile(t, filepath.Join(w.dir, filepath.FromSlash(name)), content)
		r.Name, r.Path, r.MediaType, r.Role, r.Describes = name, name, mediaType, role, describes
		w.m.Add(r)
		return r
	}
	w.app = add("dist/app", "the app binary\n", "application/octet-stream", artifact.RoleArtifact, digest.SHA256{})
	w.lib = add("dist/lib.so", "a library\n", "application/octet-stream", artifact.RoleArtifact, digest.SHA256{})
	add("dist/app.cdx.json", cdxDoc, "application/vnd.cyclonedx+json", artifact.RoleSBOM, w.app.Digest)
	add("dist/app.spdx.json", spdxDoc, "application/spdx+json", artifact.RoleSBOM, w.app.Digest)
	if err := w.m.WriteFile(w.manifest); err != nil {
		t.Fatal(err)
	}
	return w
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func localBuilder(t testing.TB) *provenance.Builder {
	t.Helper()
	b, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// githubBuilder is a GitHub-hosted runner's builder, detected from its
// environment.
func githubBuilder(t testing.TB) *provenance.Builder {
	t.Helper()
	b, err := provenance.DetectBuilder(provenance.BuilderConfig{Getenv: env(map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "slipway-demo/hello",
		"GITHUB_WORKFLOW_REF": "slipway-demo/hello/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_REF":          "refs/heads/main", "GITHUB_SHA": "4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4",
		"GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_EVENT_NAME": "push", "RUNNER_ENVIRONMENT": "github-hosted",
	})})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compact(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }

func provenanceSubjects(s []artifact.Subject) ([]*intoto.ResourceDescriptor, error) {
	return provenance.Subjects(s)
}
