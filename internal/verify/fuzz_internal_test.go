package verify

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/proto"

	"github.com/slipway/actions/internal/policy"
)

// FuzzParseEvidence feeds arbitrary bundle and signature files to the
// loader: it must return evidence or an error, never panic.
func FuzzParseEvidence(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}`))
	f.Add([]byte(`{"base64Signature":"x"}`))
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\nwnUEABYKAB0WIQQ=\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte{0xc2, 0x75, 0x04, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvidence("fuzz", data)
		if err == nil && ev.sigstore == nil && ev.gpgPacket == nil {
			t.Fatalf("no error and no evidence for %q", data)
		}
	})
}

// FuzzPredicates feeds arbitrary (already verified) predicates to the
// provenance and SBOM checks: they must report, never panic.
func FuzzPredicates(f *testing.F) {
	prov, _ := json.Marshal(map[string]any{
		"buildDefinition": map[string]any{"buildType": "x", "externalParameters": map[string]any{"workflow": map[string]any{"repository": "https://github.com/o/r"}},
			"resolvedDependencies": []any{map[string]any{"uri": "git+https://github.com/o/r", "digest": map[string]any{"gitCommit": "ab"}}}},
		"runDetails": map[string]any{"builder": map[string]any{"id": "b"}, "metadata": map[string]any{"finishedOn": "2026-01-01T00:00:00Z"}},
	})
	f.Add(prov)
	f.Add([]byte(`{"sbom":{"digest":{"sha256":"ab"}},"sbomPredicateType":"https://cyclonedx.org/bom"}`))
	f.Add([]byte(`{"metadata":{"component":{"hashes":[{"alg":"SHA-256","content":"ab"}]}}}`))
	f.Add([]byte(`{"documentDescribes":["a"],"packages":[{"SPDXID":"a","checksums":[{"algorithm":"SHA256","checksumValue":"ab"}]}]}`))
	p := &policy.Policy{Builders: []policy.Builder{{ID: "b"}}, SourceRepositories: []string{"https://github.com/o/r"}}
	v := New(p)
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep := &SubjectReport{Name: "fuzz"}
		ev := &evidence{path: "fuzz.json"}
		fd := &found{attestations: map[string]string{}}
		v.checkProvenance(rep, ev, raw, fd)
		v.checkSBOM(rep, ev, policy.CycloneDX, raw, "ab")
		if ref := parseSBOMReference(raw); ref != nil {
			v.checkSBOMReference(rep, ev, ref, "ab", Subject{Name: "fuzz"})
		}
		if len(rep.Checks) == 0 {
			t.Fatalf("no check reported for %q", raw)
		}
	})
}

// FuzzStatement feeds arbitrary (already signature-verified) DSSE payloads
// to the statement checks: they must report, never panic, and never count
// an attestation or provenance subject from a statement that does not name
// the subject's digest, nor provenance from an SBOM reference.
func FuzzStatement(f *testing.F) {
	const sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sum + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sum + `"}}],"predicateType":"https://slipway.dev/attestations/sbom-reference/v1","predicate":{"sbom":{"digest":{"sha256":"ab"}},"sbomPredicateType":"https://slsa.dev/provenance/v1"}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[],"predicateType":"x"}`))
	f.Add([]byte(`[]`))
	p := &policy.Policy{Builders: []policy.Builder{{ID: "b"}}, AllowedPredicateTypes: []string{policy.CycloneDX, "https://example.com/x"}}
	v := New(p)
	raw, _ := hex.DecodeString(sum)
	f.Fuzz(func(t *testing.T, payload []byte) {
		rep := &SubjectReport{Name: "fuzz"}
		fd := &found{attestations: map[string]string{}}
		v.checkStatement(rep, &evidence{path: "fuzz.json"}, inTotoPayloadType, payload, raw, Subject{Name: "fuzz"}, fd, nil)
		if len(rep.Checks) == 0 {
			t.Fatalf("no check reported for %q", payload)
		}
		rep.finish()
		if len(fd.attestations) > 0 && !fd.signed {
			t.Fatalf("an attestation counted from a statement that does not name the subject: %q", payload)
		}
		if _, ok := fd.attestations[policy.SLSAProvenanceV1]; ok && len(fd.provenance) == 0 {
			t.Fatalf("provenance counted without a provenance statement's subjects: %q", payload)
		}
	})
}

// FuzzResults feeds arbitrary (already verified) test-result and vulns
// predicates to the tests and vulnerabilities checks: they must report,
// never panic, and never pass a subject whose deciding result is not
// acceptable.
func FuzzResults(f *testing.F) {
	f.Add([]byte(`{"result":"FAILED","failedTests":["a/TestA"],"passedTests":[]}`))
	f.Add([]byte(`{"result":"WARNED","warnedTests":["a"]}`))
	f.Add([]byte(`{"scanner":{"uri":"pkg:golang/github.com/anchore/grype@v1","db":{"lastUpdate":"2027-01-01T00:00:00Z"},"result":[{"id":"CVE-1","severity":[{"method":"nvd","score":"critical"}],"annotations":[{"package":"pkg:golang/a@v1"},{"fixedIn":"v2"}]}]},"metadata":{"scanFinishedOn":"2027-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"scanner":{"uri":"x","result":[{"vulnerability":{"id":"GHSA-1","severity":[{"score":"9.9"}]}},{"id":""}]}}`))
	p := &policy.Policy{
		Tests:           &policy.Tests{Required: true, Result: policy.TestPassed},
		Vulnerabilities: &policy.Vulnerabilities{Required: true, MaxSeverity: policy.SeverityHigh, MaxAge: time.Hour, Ignore: []policy.Ignore{{ID: "CVE-1", Reason: "r", Expires: time.Unix(1, 0)}}},
	}
	v := New(p, WithClock(func() time.Time { return time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC) }))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep := &SubjectReport{Name: "fuzz"}
		ev := &evidence{path: "fuzz.json"}
		fd := &found{attestations: map[string]string{}}
		okTests := v.collectTestResult(rep, ev, raw, fd, nil)
		v.collectVulns(rep, ev, raw, fd, nil)
		v.checkTests(rep, fd)
		v.checkVulns(rep, fd)
		if len(rep.Checks) == 0 {
			t.Fatalf("no check reported for %q", raw)
		}
		rep.finish()
		if okTests && fd.tests[0].pred.Result != policy.TestPassed && rep.Verified {
			t.Fatalf("a %s test result passed: %q", fd.tests[0].pred.Result, raw)
		}
	})
}

// FuzzSigstoreEvidence checks that sigstoreEvidence, which parses the
// bundle before probing it, decides every input as sigstoreEvidenceProbed
// (the order it replaced: probe first, then parse) does: the same error,
// or an equal bundle.
func FuzzSigstoreEvidence(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AA=="},"signature":"AA=="}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AA=="}]}}`))
	f.Add([]byte(`{"media_type":"application/vnd.dev.sigstore.bundle.v0.3+json","verification_material":{"public_key":{"hint":"x"}},"message_signature":{"signature":"AA=="}}`))
	f.Add([]byte(`{"base64Signature":"x","cert":"y"}`))
	f.Add([]byte(`{"BASE64SIGNATURE":null}`))
	f.Add([]byte(`{"mediaType":5}`))
	f.Add([]byte(`{"mediaType":"a","mediaType":"b"}`))
	f.Add([]byte("{\"mediaType\":\"\xff\"}"))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gotErr := sigstoreEvidence("fuzz", data)
		want, wantErr := sigstoreEvidenceProbed("fuzz", data)
		switch {
		case (gotErr == nil) != (wantErr == nil):
			t.Fatalf("%q: error %v, before %v", data, gotErr, wantErr)
		case gotErr != nil:
			if gotErr.Error() != wantErr.Error() {
				t.Fatalf("%q: error %q, before %q", data, gotErr, wantErr)
			}
		case got.path != want.path || !proto.Equal(got.sigstore.Bundle, want.sigstore.Bundle):
			t.Fatalf("%q: evidence %+v, before %+v", data, got, want)
		}
	})
}

// sigstoreEvidenceProbed is sigstoreEvidence as it was before the bundle
// was parsed first: the reference FuzzSigstoreEvidence compares with.
func sigstoreEvidenceProbed(path string, data []byte) (*evidence, error) {
	var probe struct {
		MediaType       string          `json:"mediaType"`
		Base64Signature json.RawMessage `json:"base64Signature"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("is not JSON: %v; give a Sigstore bundle (.sigstore.json)", err)
	}
	if probe.MediaType == "" && probe.Base64Signature != nil {
		return nil, errors.New("is a legacy cosign bundle; sign with \"cosign sign-blob --new-bundle-format\" to get a Sigstore bundle v0.3")
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("is not a valid Sigstore bundle: %v", err)
	}
	return &evidence{path: path, sigstore: &b}, nil
}
