package policytest

import (
	"encoding/json"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
)

// Bundle signs content with kp as sigstore-go's sign package does and
// returns the Sigstore bundle v0.3 as JSON. Pass a CertificateProvider
// (Sigstore.Fulcio), TransparencyLogs (Sigstore.Rekor) and
// TimestampAuthorities (Sigstore.TSA) in opts for keyless, logged or
// timestamped bundles.
func Bundle(t testing.TB, content sign.Content, kp sign.Keypair, opts sign.BundleOptions) []byte {
	t.Helper()
	pb, err := sign.Bundle(content, kp, opts)
	if err != nil {
		t.Fatalf("signing a bundle: %v", err)
	}
	b, err := (&bundle.Bundle{Bundle: pb}).MarshalJSON()
	if err != nil {
		t.Fatalf("encoding a bundle: %v", err)
	}
	return b
}

// Subject is a statement subject: a name and its SHA-256 (hex).
type Subject struct {
	Name   string
	SHA256 string
}

// Statement returns an in-toto Statement v1 of predicateType about
// subjects, as JSON.
func Statement(t testing.TB, predicateType string, predicate any, subjects ...Subject) []byte {
	t.Helper()
	type rd struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	}
	st := struct {
		Type          string `json:"_type"`
		Subject       []rd   `json:"subject"`
		PredicateType string `json:"predicateType"`
		Predicate     any    `json:"predicate"`
	}{Type: "https://in-toto.io/Statement/v1", PredicateType: predicateType, Predicate: predicate}
	for _, s := range subjects {
		st.Subject = append(st.Subject, rd{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}})
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DSSE wraps an in-toto statement for signing as a DSSE envelope.
func DSSE(statement []byte) *sign.DSSEData {
	return &sign.DSSEData{Data: statement, PayloadType: "application/vnd.in-toto+json"}
}

// Provenance returns a SLSA v1 provenance predicate naming builder and
// source repository (as "git+https://..."), finished at finishedOn (RFC
// 3339).
func Provenance(builder, source, finishedOn string) map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType":          "https://slipway.dev/buildtypes/github-actions/v1",
			"externalParameters": map[string]any{"repository": source, "ref": "refs/tags/v1"},
			"resolvedDependencies": []any{map[string]any{
				"uri": source + "@refs/tags/v1", "digest": map[string]any{"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
			}},
		},
		"runDetails": map[string]any{
			"builder":  map[string]any{"id": builder},
			"metadata": map[string]any{"invocationId": "https://example.test/run/1", "finishedOn": finishedOn},
		},
	}
}
