package upload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
)

const (
	testBundle = `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},`
	// payload: {"predicateType":"https://slsa.dev/provenance/v1"}
	provenancePayload = "eyJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6Ly9zbHNhLmRldi9wcm92ZW5hbmNlL3YxIn0="
	// payload: {"predicateType":"https://cyclonedx.org/bom"}
	sbomPayload = "eyJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6Ly9jeWNsb25lZHgub3JnL2JvbSJ9"
)

// TestClassify: a bundle file is recorded as what its content says.
func TestClassify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		role          artifact.Role
		err           string
	}{
		{"sig.sigstore.json", testBundle + `"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}`, artifact.RoleSignature, ""},
		{"prov.sigstore.json", testBundle + `"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"` + provenancePayload + `","signatures":[]}}`, artifact.RoleProvenance, ""},
		{"sbom.intoto.sigstore.json", testBundle + `"dsseEnvelope":{"payload":"` + sbomPayload + `"}}`, artifact.RoleAttestation, ""},
		{"app.cdx.json", `{"$schema":"x","components":[{"a":[1,2,{"b":null}]}],"bomFormat":"CycloneDX"}`, artifact.RoleSBOM, ""},
		{"app.spdx.json", `{"spdxVersion":"SPDX-2.3"}`, artifact.RoleSBOM, ""},
		{"app.asc", "\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n", artifact.RoleSignature, ""},
		{"app.sig", "\x89\x01\x33", artifact.RoleSignature, ""},
		{"app.bin", "ELF", "", "is neither a Sigstore bundle"},
		{"other.json", `{"mediaType":"application/json"}`, "", "is neither a Sigstore bundle"},
		{"empty.sigstore.json", testBundle[:len(testBundle)-1] + `}`, "", "neither a message signature nor a DSSE envelope"},
		{"broken.json", `{"a":`, "", "is not valid JSON"},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		role, err := classify(p)
		if role != tc.role || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("classify(%s) = %q, %v; want %q, %q", tc.name, role, err, tc.role, tc.err)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte(testBundle + `"dsseEnvelope":{"payload":"` + provenancePayload + `"}}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX"}`))
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		p := filepath.Join(dir, "bundle")
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		role, err := classify(p)
		if (err == nil) != role.Valid() {
			t.Fatalf("classify(%q) = %q, %v", content, role, err)
		}
	})
}
