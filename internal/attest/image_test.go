package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/registry"
)

// pushRandomImage pushes a small random image to a fresh registry and
// returns its reference by tag and its digest.
func pushRandomImage(t *testing.T) (tagRef, digestHex string) {
	t.Helper()
	tag, d := registry.PushRandomImage(t, registry.Start(t), "demo/app")
	return tag.String(), d.Hex
}

// TestImageAttestationCosign attaches provenance and an SBOM attestation to
// an image in a real registry, in both of cosign's formats, and checks them
// with the real cosign CLI: "cosign verify-attestation" reads the .att tag,
// "cosign verify-attestation --new-bundle-format" the OCI referrer.
func TestImageAttestationCosign(t *testing.T) {
	t.Parallel()
	c := newCosign(t)
	tag, hex := pushRandomImage(t)
	w := newWorkspace(t)
	s := newTestSigner(t)
	pub := s.publicKeyPath(t)
	ctx := context.Background()

	res, err := Run(ctx, Options{Dir: w.dir, Image: tag, Manifest: "dist/manifest.json", Bundle: "image.intoto.sigstore.json", Kind: KindProvenance, Builder: localBuilder(t), Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Attestations[0]
	repo := strings.TrimSuffix(tag, ":v1")
	if len(a.Subjects) != 1 || a.Subjects[0].Name != repo || a.Subjects[0].Digest.Hex() != hex {
		t.Errorf("subjects = %+v, want %s@sha256:%s", a.Subjects, repo, hex)
	}
	wantAtt := repo + ":sha256-" + hex + ".att"
	if len(a.Attached) != 2 || a.Attached[0] != wantAtt || !strings.HasPrefix(a.Attached[1], "referrer of ") {
		t.Errorf("attached = %q, want %s and a referrer", a.Attached, wantAtt)
	}
	if !res.ManifestUpdated {
		t.Error("manifest not updated for the image's provenance bundle")
	}
	if _, err := Run(ctx, Options{Dir: w.dir, Image: tag, SBOM: "dist/app.cdx.json", Kind: KindCycloneDX, SBOMInlineLimit: DefaultSBOMInlineLimit, Signer: s}); err != nil {
		t.Fatal(err)
	}

	byDigest := repo + "@sha256:" + hex
	for _, typ := range []string{"slsaprovenance1", "cyclonedx"} {
		for _, format := range [][]string{nil, {"--new-bundle-format", "--trusted-root", c.trustedRoot}} {
			args := append(append([]string{"verify-attestation"}, format...), "--key", pub, "--insecure-ignore-tlog", "--type", typ, byDigest)
			out, err := c.run(t, args...)
			if err != nil {
				t.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
				continue
			}
			if got := printedPredicateTypes(t, out); len(got) != 1 || got[0] != typeURI(typ) {
				t.Errorf("cosign %s printed statements of types %q, want one %s", strings.Join(args, " "), got, typeURI(typ))
			}
		}
	}
	other := newOtherSigner(t).publicKeyPath(t)
	if out, err := c.run(t, "verify-attestation", "--key", other, "--insecure-ignore-tlog", "--type", "slsaprovenance1", byDigest); err == nil {
		t.Errorf("cosign accepted the attestation with another key:\n%s", out)
	}
	if out, err := c.run(t, "verify-attestation", "--key", pub, "--insecure-ignore-tlog", "--type", "spdx", byDigest); err == nil {
		t.Errorf("cosign found an SPDX attestation that was never made:\n%s", out)
	}
}

// typeURI is the predicate type of a cosign --type name.
func typeURI(typ string) string {
	k, _ := ParseKind(typ)
	return k.PredicateType()
}

// printedPredicateTypes reads the DSSE envelopes cosign verify-attestation
// prints, one JSON line each, and returns their statements' predicate types.
func printedPredicateTypes(t *testing.T, out string) []string {
	t.Helper()
	var types []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var env struct {
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			t.Fatalf("cosign printed %q: %v", line, err)
		}
		payload, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, parseStatement(t, payload).PredicateType)
	}
	return types
}

func TestImageErrors(t *testing.T) {
	t.Parallel()
	tag, _ := pushRandomImage(t)
	missing := strings.Replace(tag, ":v1", ":v2", 1)
	_, err := Run(context.Background(), Options{Dir: t.TempDir(), Image: missing, Kind: KindProvenance, Builder: githubBuilder(t), Signer: newTestSigner(t)})
	if err == nil || !strings.Contains(err.Error(), "check the reference and that the image was pushed") {
		t.Fatalf("Run() error = %v", err)
	}
}
