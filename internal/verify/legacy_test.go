package verify_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/sign"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// cosignImage is an image in a real registry signed and attested by the
// real cosign CLI v2.6.2 the way most people do it: "cosign sign" and
// "cosign attest" without --new-bundle-format, which store the signature
// in the image's sha256-<hex>.sig tag and the attestation in its .att tag.
type cosignImage struct {
	addr, dir, cosign string
	env               []string
	ref               string // the tag
	digest            v1.Hash
	pub               []byte
}

func newCosignImage(t *testing.T, repo string) *cosignImage {
	t.Helper()
	c := &cosignImage{cosign: tools.Require(t, "cosign"), addr: registry.Start(t), dir: t.TempDir()}
	tag, d := registry.PushRandomImage(t, c.addr, repo)
	c.ref, c.digest = tag.String(), d
	c.env = []string{"COSIGN_PASSWORD=pw-" + filepath.Base(c.dir)}
	runTool(t, c.dir, c.env, c.cosign, "generate-key-pair")
	var err error
	if c.pub, err = os.ReadFile(filepath.Join(c.dir, "cosign.pub")); err != nil {
		t.Fatal(err)
	}
	return c
}

// sign runs cosign sign with the key, without the transparency log.
func (c *cosignImage) sign(t *testing.T, ref string, extra ...string) {
	t.Helper()
	args := append([]string{"sign", "--yes", "--key", "cosign.key", "--allow-http-registry", "--allow-insecure-registry"}, extra...)
	if !strings.Contains(strings.Join(extra, " "), "--rekor-url") {
		args = append(args, "--tlog-upload=false")
	}
	runTool(t, c.dir, c.env, c.cosign, append(args, ref)...)
}

// attest runs cosign attest --type slsaprovenance1 with a provenance by
// builderID from sourceRepo, without the transparency log.
func (c *cosignImage) attest(t *testing.T, ref string) {
	t.Helper()
	pred := policytest.Provenance(builderID, sourceRepo, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	policytest.WriteFile(t, c.dir, "provenance.json", mustJSON(t, pred))
	runTool(t, c.dir, c.env, c.cosign, "attest", "--yes", "--key", "cosign.key", "--type", "slsaprovenance1",
		"--predicate", "provenance.json", "--tlog-upload=false", "--allow-http-registry", "--allow-insecure-registry", ref)
}

// legacyTag is the image's cosign tag with suffix (".sig" or ".att").
func legacyTag(t *testing.T, repo string, d v1.Hash, suffix string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(repo+":sha256-"+d.Hex+suffix, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// TestImageCosignLegacyTags verifies an image that the real cosign CLI
// signed and attested into its .sig and .att tags, and refuses what an
// attacker with push access to the repository could put there instead.
func TestImageCosignLegacyTags(t *testing.T) {
	t.Parallel()
	c := newCosignImage(t, "team/app")
	c.sign(t, c.ref)
	c.attest(t, c.ref)
	p := imagePolicy(t, c.pub, "builders: ["+builderID+"]\nsourceRepositories: ["+sourceRepo+"]\nmaxAge: 1h\n")
	sigLayer := "app:sha256-" + c.digest.Hex + ".sig layer 0"
	attLayer := "app:sha256-" + c.digest.Hex + ".att layer 0"

	t.Run("signed and attested", func(t *testing.T) {
		t.Parallel()
		expect(t, verifyImage(t, p, c.ref), true,
			"PASS signature  "+sigLayer+": sigstore bundle signed by key SHA256:",
			"PASS digest     "+sigLayer+": the signed payload names this image, sha256:"+c.digest.Hex+` in "`+c.addr+`/team/app"`,
			"PASS signature  "+attLayer,
			"PASS digest     "+attLayer+`: statement subject "`+c.addr+`/team/app" has the subject's sha256:`,
			"PASS builder    "+attLayer, "PASS source     "+attLayer, "PASS age        "+attLayer)
	})
	t.Run("signature only, provenance required", func(t *testing.T) {
		t.Parallel()
		other := newCosignImage(t, "team/sigonly")
		other.sign(t, other.ref)
		expect(t, verifyImage(t, imagePolicy(t, other.pub, "builders: ["+builderID+"]\n"), other.ref), false,
			"PASS digest     sigonly:sha256-", "FAIL provenance", "no verified SLSA v1 provenance names this subject")
	})
	t.Run("another key", func(t *testing.T) {
		t.Parallel()
		other := sigstoretest.NewCosignKey(t, "")
		expect(t, verifyImage(t, imagePolicy(t, other.PublicPEM, ""), c.ref), false,
			"FAIL signature  "+sigLayer+": the signature does not verify with any policy key",
			"FAIL signature  "+attLayer+": the signature does not verify with any policy key")
	})
	t.Run("tampered signature", func(t *testing.T) {
		t.Parallel()
		victim := newCosignImage(t, "team/victim")
		victim.sign(t, victim.ref)
		tag := legacyTag(t, victim.addr+"/team/victim", victim.digest, ".sig")
		want := "FAIL signature  victim:sha256-" + victim.digest.Hex + ".sig layer 0: the signature does not verify with any policy key"
		// One flipped bit of the signature.
		raw, err := base64.StdEncoding.DecodeString(layerAnnotation(t, tag, "dev.cosignproject.cosign/signature"))
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)/2] ^= 1
		rewriteLegacyLayer(t, tag, "dev.cosignproject.cosign/signature", base64.StdEncoding.EncodeToString(raw))
		expect(t, verifyImage(t, imagePolicy(t, victim.pub, ""), victim.ref), false, want)
		// The genuine signature of another image, with this image's payload.
		sigOfApp := layerAnnotation(t, legacyTag(t, c.addr+"/team/app", c.digest, ".sig"), "dev.cosignproject.cosign/signature")
		rewriteLegacyLayer(t, tag, "dev.cosignproject.cosign/signature", sigOfApp)
		expect(t, verifyImage(t, imagePolicy(t, c.pub, ""), victim.ref), false,
			"FAIL signature  victim:sha256-"+victim.digest.Hex+".sig layer 0: the signature does not verify with any policy key")
	})
	t.Run("signature of another digest", func(t *testing.T) {
		t.Parallel()
		// app's genuine .sig image, copied to the .sig tag of another image
		// in the same repository, signed by the same key.
		otherTag, otherDigest := registry.PushRandomImage(t, c.addr, "team/other")
		copyImage(t, legacyTag(t, c.addr+"/team/app", c.digest, ".sig"), legacyTag(t, c.addr+"/team/other", otherDigest, ".sig"))
		expect(t, verifyImage(t, p, otherTag.String()), false,
			"FAIL digest     other:sha256-"+otherDigest.Hex+".sig layer 0: the signature is of image \"sha256:"+c.digest.Hex+"\", but this image is sha256:"+otherDigest.Hex)
	})
	t.Run("signed for another repository", func(t *testing.T) {
		t.Parallel()
		// The image and its signature and attestation, copied as they are
		// into another repository: the payload names team/app.
		src, err := name.NewDigest(c.addr+"/team/app@"+c.digest.String(), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		dst, err := name.NewTag(c.addr+"/team/mirror:v1", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		copyImage(t, src, dst)
		copyImage(t, legacyTag(t, c.addr+"/team/app", c.digest, ".sig"), legacyTag(t, c.addr+"/team/mirror", c.digest, ".sig"))
		expect(t, verifyImage(t, imagePolicy(t, c.pub, ""), dst.String()), false,
			`FAIL digest     mirror:sha256-`+c.digest.Hex+`.sig layer 0: the signature names repository "`+c.addr+`/team/app" (critical.identity.docker-reference), but the image was read from "`+c.addr+`/team/mirror"`)
	})
}

// TestImageCosignLegacyTlog: a signature cosign logged in a Rekor (the
// local stand-in) passes a policy that requires the log, and fails when its
// signed entry timestamp is changed or the log is not trusted.
func TestImageCosignLegacyTlog(t *testing.T) {
	t.Parallel()
	ss := sigstoretest.Start(t, sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer))
	c := newCosignImage(t, "team/logged")
	c.sign(t, c.ref, "--rekor-url", ss.RekorURL)
	dir := t.TempDir()
	policytest.WriteFile(t, dir, "trusted_root.json", ss.TrustedRootJSON(t))
	p := imagePolicy(t, c.pub, "trustedRoot: "+filepath.Join(dir, "trusted_root.json")+"\ntlog: required\n")
	sigLayer := "logged:sha256-" + c.digest.Hex + ".sig layer 0"
	expect(t, verifyImage(t, p, c.ref), true, "PASS signature  "+sigLayer, "PASS tlog       "+sigLayer, "PASS digest     "+sigLayer)

	other := sigstoretest.New(t)
	policytest.WriteFile(t, dir, "other_root.json", other.TrustedRootJSON(t))
	untrusted := imagePolicy(t, c.pub, "trustedRoot: "+filepath.Join(dir, "other_root.json")+"\ntlog: required\n")
	expect(t, verifyImage(t, untrusted, c.ref), false, "FAIL tlog       "+sigLayer)

	tag := legacyTag(t, c.addr+"/team/logged", c.digest, ".sig")
	b := layerAnnotation(t, tag, "dev.sigstore.cosign/bundle")
	rewriteLegacyLayer(t, tag, "dev.sigstore.cosign/bundle", strings.Replace(b, `"logIndex":0`, `"logIndex":1`, 1))
	expect(t, verifyImage(t, p, c.ref), false, "FAIL tlog       "+sigLayer)
}

// layerAnnotation returns an annotation of the first layer of the image at ref.
func layerAnnotation(t *testing.T, ref name.Reference, key string) string {
	t.Helper()
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m.Layers[0].Annotations[key]
	if !ok {
		t.Fatalf("%s layer 0 has no annotation %q: %v", ref, key, m.Layers[0].Annotations)
	}
	return v
}

// rewriteLegacyLayer pushes the image at tag again with one annotation of its
// first layer set to value (as an attacker with push access could).
func rewriteLegacyLayer(t *testing.T, tag name.Tag, key, value string) {
	t.Helper()
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{}
	for k, v := range m.Layers[0].Annotations {
		ann[k] = v
	}
	ann[key] = value
	base := mutate.MediaType(mutate.ConfigMediaType(empty.Image, m.Config.MediaType), m.MediaType)
	out, err := mutate.Append(base, mutate.Addendum{Layer: layers[0], MediaType: m.Layers[0].MediaType, Annotations: ann})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, out); err != nil {
		t.Fatal(err)
	}
}

// copyImage copies the image at src to dst.
func copyImage(t *testing.T, src, dst name.Reference) {
	t.Helper()
	img, err := remote.Image(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img); err != nil {
		t.Fatal(err)
	}
}

// TestImageLegacyKeyless: a keyless signature in the .sig tag (certificate
// and chain, Rekor bundle and RFC 3161 timestamp in cosign's annotations, as
// slipway sign writes them next to the referrer bundle) passes a policy
// for its identity with the log required, and fails for another identity.
func TestImageLegacyKeyless(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	claims := sigstoretest.GitHubClaims("slipway/example", ".github/workflows/release.yml")
	claims["aud"] = "sigstore"
	token, err := iss.Token(claims)
	if err != nil {
		t.Fatal(err)
	}
	addr := registry.Start(t)
	tag, d := registry.PushRandomImage(t, addr, "team/keyless")
	if _, err := sign.Run(context.Background(), sign.Options{Image: tag.String(), Dir: t.TempDir(), Sigstore: signing.Config{
		Keyless: true, IDToken: token, FulcioURL: ss.FulcioURL, RekorURL: ss.RekorURL, TSAURL: ss.TSAURL, TLog: true}}); err != nil {
		t.Fatalf("sign.Run() = %v", err)
	}
	// The image copied to another repository with only its .sig tag.
	img, err := remote.Image(legacyTag(t, addr+"/team/keyless", d, ".sig"))
	if err != nil {
		t.Fatal(err)
	}
	only, err := name.NewTag(addr+"/team/legacyonly:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	copyImage(t, tag, only)
	if err := remote.Write(legacyTag(t, addr+"/team/legacyonly", d, ".sig"), img); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	policytest.WriteFile(t, dir, "trusted_root.json", ss.TrustedRootJSON(t))
	policyFor := func(subject string) *policy.Policy {
		p, err := policy.Load(policytest.WriteFile(t, dir, "policy.yaml", []byte(
			"apiVersion: slipway.dev/v1\nkind: TrustPolicy\nidentities: [{name: ci, issuer: \""+sigstoretest.GitHubIssuer+"\", subject: \""+subject+"\"}]\ntrustedRoot: trusted_root.json\ntlog: required\n")))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	sigLayer := "keyless:sha256-" + d.Hex + ".sig layer 0"
	good := policyFor("https://github.com/slipway/example/.github/workflows/release.yml@refs/heads/main")
	expect(t, verifyImage(t, good, tag.String()), true,
		"PASS signature  "+sigLayer+`: sigstore bundle signed by "https://github.com/slipway/example/.github/workflows/release.yml@refs/heads/main"`,
		"PASS tlog       "+sigLayer, "PASS digest     "+sigLayer)
	expect(t, verifyImage(t, good, only.String()), false,
		"FAIL digest     legacyonly:sha256-"+d.Hex+".sig layer 0: the signature names repository")
	expect(t, verifyImage(t, policyFor("https://github.com/evil/example/.github/workflows/release.yml@refs/heads/main"), tag.String()), false,
		"FAIL signature  "+sigLayer+": is signed by")
}
