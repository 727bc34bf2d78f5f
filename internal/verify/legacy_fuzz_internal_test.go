package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// FuzzLegacyBundle feeds arbitrary cosign layers (content and annotations,
// as a registry serves them) to the conversion into a Sigstore bundle, and
// the simple-signing payload to its check: they must convert or refuse,
// report, and never panic.
func FuzzLegacyBundle(f *testing.F) {
	payload := `{"critical":{"identity":{"docker-reference":"r.example/o/app"},"image":{"docker-manifest-digest":"sha256:` +
		hex.EncodeToString(make([]byte, 32)) + `"},"type":"cosign container image signature"},"optional":null}`
	f.Add(true, []byte(payload), "MEUCIQ==", "", "", "")
	f.Add(false, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}`), "", "", "", "")
	f.Add(true, []byte(payload), "MEUCIQ==", `{"SignedEntryTimestamp":"AA==","Payload":{"body":"eyJraW5kIjoiaGFzaGVkcmVrb3JkIiwiYXBpVmVyc2lvbiI6IjAuMC4xIn0=","integratedTime":1,"logIndex":0,"logID":"00"}}`,
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", `{"SignedRFC3161Timestamp":"AA=="}`)
	f.Fuzz(func(t *testing.T, sig bool, content []byte, signature, rekor, cert, ts string) {
		mt := dsseEnvelopeMediaType
		if sig {
			mt = simpleSigningMediaType
		}
		ann := map[string]string{cosignSignatureAnnotation: signature, cosignBundleAnnotation: rekor,
			cosignCertificateAnnotation: cert, cosignTimestampAnnotation: ts}
		b, err := legacyBundle(mt, content, ann)
		if err == nil && b == nil {
			t.Fatal("no error and no bundle")
		}
		repo, _ := name.NewRepository("r.example/o/app")
		rep := &SubjectReport{Name: "fuzz"}
		sum := sha256.Sum256(nil)
		ev := &evidence{path: "fuzz", simpleSigning: &simpleSigning{payload: content, repository: repo}}
		(&Verifier{}).checkSimpleSigning(rep, ev, sum[:], &found{}, nil)
		if len(rep.Checks) != 1 {
			t.Fatalf("checkSimpleSigning reported %d checks, want 1", len(rep.Checks))
		}
	})
}
