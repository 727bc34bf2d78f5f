package verify_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

const (
	allowBuilders = "builders: [" + builderID + "]\nsourceRepositories: [" + sourceRepo + "]\n"
	requireSLSA   = "requiredPredicateTypes: [" + policy.SLSAProvenanceV1 + "]\n"
)

func TestKeySignedBundles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sig := f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	att := f.write(t, "app.tar.gz.intoto.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance()))
	s := f.verify(t, f.policy(t, allowBuilders+requireSLSA)) // bundles found next to the subject
	expect(t, s, true,
		"PASS signature  app.tar.gz.sigstore.json: sigstore bundle signed by key SHA256:",
		`(policy key "release")`,
		"PASS digest     app.tar.gz.sigstore.json: the signed message digest is the subject's sha256:"+f.sum,
		"PASS digest     app.tar.gz.intoto.sigstore.json: statement subject \"app.tar.gz\" has the subject's sha256:"+f.sum,
		`PASS builder    app.tar.gz.intoto.sigstore.json: provenance builder "`+builderID+`" is allowed (policy builders[0]`,
		`PASS source     app.tar.gz.intoto.sigstore.json: provenance source "`+sourceRepo+`" (externalParameters.repository) is allowed`,
		`PASS predicate  app.tar.gz: required predicate type "https://slsa.dev/provenance/v1" is attested (app.tar.gz.intoto.sigstore.json)`)
	if s.Digest != "sha256:"+f.sum || s.Size != 3<<20+17 {
		t.Errorf("report digest %s size %d", s.Digest, s.Size)
	}
	for _, c := range s.Checks {
		if c.Check == "signature" && c.Signer != "release" {
			t.Errorf("signature check signer = %q, want release", c.Signer)
		}
	}
	// Named explicitly, the same bundles verify the same way.
	expect(t, f.verify(t, f.policy(t, allowBuilders), sig, att), true, "PASS signature  app.tar.gz.sigstore.json")
}

// TestOtherDigestAlgorithms: a P-384 key signs a SHA-384 message digest,
// which the one read of the subject computes alongside SHA-256.
func TestOtherDigestAlgorithms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	kp, err := sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.GetPublicKeyPem()
	f.write(t, "keys/p384.pub", []byte(pub))
	f.extraKeys = []string{"p384"}
	p := f.policy(t, "")
	b := f.write(t, "p384.sigstore.json", f.signBlob(t, kp, sign.BundleOptions{}))
	expect(t, f.verify(t, p, b), true, `(policy key "p384")`, "the signed message digest is the subject's sha384:")
}

// TestTampering proves each kind of tampering is caught, by the check that
// should catch it.
func TestTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		extra  string // policy YAML
		make   func(t *testing.T, f *fixture) []string
		want   []string
		reason string
	}{
		{
			name: "changed artifact (message signature)",
			make: func(t *testing.T, f *fixture) []string {
				b := f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
				appendTo(t, f.subject, "x")
				return []string{b}
			},
			want: []string{"PASS signature  a.sigstore.json", "FAIL digest     a.sigstore.json: the bundle signs sha256:", "the subject or the bundle changed"},
		},
		{
			name:  "changed artifact (attestation)",
			extra: allowBuilders,
			make: func(t *testing.T, f *fixture) []string {
				b := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance()))
				appendTo(t, f.subject, "x")
				return []string{b}
			},
			want: []string{"FAIL digest     a.intoto.json: no subject of the https://slsa.dev/provenance/v1 statement has the subject's sha256:",
				`FAIL provenance app.tar.gz: the policy constrains builders or source repositories, but no verified SLSA v1 provenance names this subject`},
		},
		{
			name: "changed bundle (message digest)",
			make: func(t *testing.T, f *fixture) []string {
				raw := f.signBlob(t, f.kp, sign.BundleOptions{})
				return []string{f.write(t, "a.sigstore.json", replaceJSON(t, raw, "messageSignature.messageDigest.digest", flipB64))}
			},
			want: []string{"FAIL signature  a.sigstore.json: the signature does not verify"},
		},
		{
			name: "changed signature",
			make: func(t *testing.T, f *fixture) []string {
				raw := f.signBlob(t, f.kp, sign.BundleOptions{})
				return []string{f.write(t, "a.sigstore.json", replaceJSON(t, raw, "messageSignature.signature", flipB64))}
			},
			want: []string{"FAIL signature  a.sigstore.json:"},
		},
		{
			name: "changed DSSE payload",
			make: func(t *testing.T, f *fixture) []string {
				raw := f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance())
				return []string{f.write(t, "a.intoto.json", replaceJSON(t, raw, "dsseEnvelope.payload", func(s string) string {
					p, _ := base64.StdEncoding.DecodeString(s)
					return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(p), "slipway/example", "evil/example", -1)))
				}))}
			},
			want: []string{"FAIL signature  a.intoto.json: the signature does not verify"},
		},
		{
			name: "changed DSSE signature",
			make: func(t *testing.T, f *fixture) []string {
				raw := f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance())
				return []string{f.write(t, "a.intoto.json", replaceJSON(t, raw, "dsseEnvelope.signatures.0.sig", flipB64))}
			},
			want: []string{"FAIL signature  a.intoto.json"},
		},
		{
			name:  "statement about another digest",
			extra: allowBuilders,
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance(), strings.Repeat("ab", 32)))}
			},
			want: []string{"PASS signature  a.intoto.json", `FAIL digest     a.intoto.json: no subject of the https://slsa.dev/provenance/v1 statement has the subject's sha256:`, `(it names "app.tar.gz" sha256:abab`},
		},
		{
			name: "wrong key",
			make: func(t *testing.T, f *fixture) []string {
				other, _ := policytest.NewKeypair(t)
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, other, sign.BundleOptions{}))}
			},
			want: []string{"FAIL signature  a.sigstore.json: the signature does not verify with any policy key (release SHA256:", "the bundle's key hint is"},
		},
		{
			name: "unknown predicate type",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, "https://example.com/unknown/v1", map[string]any{"x": 1}))}
			},
			want: []string{`FAIL predicate  a.intoto.json: attests predicate type "https://example.com/unknown/v1", which the policy neither requires nor allows (accepted: none); add it to allowedPredicateTypes`},
		},
		{
			name: "not a bundle",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.sigstore.json", []byte("hello"))}
			},
			want: []string{"FAIL bundle     a.sigstore.json: is neither a Sigstore bundle (JSON) nor an OpenPGP signature"},
		},
		{
			name: "legacy cosign bundle",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.bundle", []byte(`{"base64Signature":"MEUC","cert":""}`))}
			},
			want: []string{"is a legacy cosign bundle; sign with \"cosign sign-blob --new-bundle-format\""},
		},
		{
			name: "no bundles",
			make: func(t *testing.T, f *fixture) []string { return nil },
			want: []string{"FAIL bundle     app.tar.gz: no bundle or signature found: looked for app.tar.gz.sigstore.json, app.tar.gz.intoto.sigstore.json, app.tar.gz.asc"},
		},
		{
			name:  "log required, bundle has none",
			extra: "tlog: required\n",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))}
			},
			want: []string{"FAIL tlog       a.sigstore.json: has no transparency log entry, and the policy requires one (tlog: required)"},
		},
		{
			name:  "timestamps required, bundle has none",
			extra: "thresholds:\n  observerTimestamps: 1\n",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))}
			},
			want: []string{"FAIL timestamp  a.sigstore.json: not enough verified timestamps", "sign with a timestamp authority"},
		},
		{
			name:  "timestamp of another authority",
			extra: "thresholds:\n  observerTimestamps: 1\n",
			make: func(t *testing.T, f *fixture) []string {
				other := policytest.NewSigstore(t)
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{TimestampAuthorities: []*sign.TimestampAuthority{other.TSA()}}))}
			},
			want: []string{"FAIL timestamp  a.sigstore.json: not enough verified timestamps"},
		},
		{
			name:  "log entry of another Sigstore",
			extra: "tlog: optional\n",
			make: func(t *testing.T, f *fixture) []string {
				other := policytest.NewSigstore(t)
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{TransparencyLogs: []sign.Transparency{other.Rekor()}}))}
			},
			want: []string{"FAIL tlog       a.sigstore.json: the transparency log entry does not verify against the trusted root"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.policy(t, tc.extra)
			expect(t, f.verify(t, p, tc.make(t, f)...), false, tc.want...)
		})
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// flipB64 changes one byte of a base64 value.
func flipB64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		panic("not base64: " + s)
	}
	b[len(b)/2] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// replaceJSON rewrites the string at a dotted path of a JSON document.
func replaceJSON(t *testing.T, raw []byte, path string, change func(string) string) []byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = change(c[p].(string))
			} else {
				cur = c[p]
			}
		case []any:
			idx := int(p[0] - '0')
			if last {
				c[idx] = change(c[idx].(string))
			} else {
				cur = c[idx]
			}
		default:
			t.Fatalf("path %q not found", path)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
