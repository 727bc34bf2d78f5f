package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/registryref"
)

// builderID is the builder-id the e2e caller passes (act is a self-hosted runner).
const builderID = "https://e2e.slipway.invalid/act"

// releaseWant is what a release workflow run must have pushed.
type releaseWant struct {
	job          string   // the release job that must have run: release-key or release-keyless
	artifacts    []string // the build's artifacts, as named in the subjects file, in its order
	sbomSubjects []string // the artifacts that get an SBOM
	command      string   // the build command
	cosign       string   // the cosign CLI
	trust        []string // cosign verify-blob flags that say whom to trust (key or certificate identity, root)
	signers      string   // the trust policy's signer section for slipway verify (keys, or identities and root)
	// controlPlane, when set, is the slipway serve the workflow uploaded the release to (its server input);
	// uploader starts the identity the control plane must have logged as the uploader.
	controlPlane *controlPlane
	uploader     string
	// checks, when set, are the trust policy's tests: and vulnerabilities: sections: the workflow ran its test
	// and scan stages, whose attestations must be pushed and pass them under slipway verify.
	checks string
}

// pushedRelease is a release pulled back from the registry.
type pushedRelease struct {
	files      map[string]string // title → local path
	manifest   *artifact.Manifest
	provenance provenanceStatement
}

// checkRelease checks a run of testdata/workflows/release.yml: the right job ran; the registry holds the digest
// the workflow output under the tag; the pushed artifact holds exactly the artifacts, their SBOMs, one signature
// bundle per artifact, the provenance and one attestation bundle per SBOM, the manifest and the subjects file (nothing
// else: no key), and with a control plane its receipt (checkAdmitted); every digest output matches the pushed
// files; and cosign verifies every bundle, only for its own file.
func checkRelease(t *testing.T, r *Result, ref string, w releaseWant) pushedRelease {
	t.Helper()
	r.RequireSuccess(t)
	ref, _ = registryref.LowercaseRepository(ref) // push lowercases the repository path
	if got := r.Value(t, "result"); got != "success" {
		t.Fatalf("the called workflow's result = %q, want success", got)
	}
	other := map[string]string{"release-key": "release-keyless", "release-keyless": "release-key"}[w.job]
	if r.Jobs[w.job] != "success" || r.Jobs[other] == "success" || r.Jobs["result"] != "success" {
		t.Errorf("jobs = %v: want %s and result to succeed and %s not to run", r.Jobs, w.job, other)
	}

	dgst, pinned := r.Value(t, "digest"), r.Value(t, "pinned-ref")
	if want := mustRef(t, ref).Context().Name() + "@" + dgst; pinned != want {
		t.Errorf("pinned-ref = %q, want %q", pinned, want)
	}
	if got := tagDigest(t, ref); got != dgst {
		t.Errorf("%s is %s in the registry, want %s", ref, got, dgst)
	}
	// The files land in WS/dist, where the manifest's paths (dist/...) find them for slipway verify.
	ws := t.TempDir()
	mustMkdir(t, filepath.Join(ws, "dist"))
	rel := pushedRelease{files: pullArtifact(t, pinned, filepath.Join(ws, "dist"))}
	files := rel.files
	want := []string{"provenance.intoto.sigstore.json", "manifest.json", "subjects.sha256"}
	for _, s := range w.sbomSubjects {
		want = append(want, path.Base(s)+".cdx.json", path.Base(s)+".cdx.json.intoto.sigstore.json")
	}
	for _, a := range w.artifacts {
		want = append(want, path.Base(a), path.Base(a)+".sigstore.json")
	}
	if w.controlPlane != nil {
		for _, a := range w.artifacts {
			want = append(want, path.Base(a)+".receipt")
		}
	}
	if w.checks != "" {
		want = append(want, "manifest.test-result.sigstore.json", "manifest.vulns.sigstore.json")
	}
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Fatalf("the release holds %v, want exactly %v", got, want)
	}

	// The subjects: the output is the pushed file, which names the pushed artifacts by their digests.
	subjectsData := readFile(t, files["subjects.sha256"])
	if b, err := base64.StdEncoding.DecodeString(r.Value(t, "base64-subjects")); err != nil || !bytes.Equal(b, subjectsData) {
		t.Errorf("base64-subjects decodes to %q (%v), want the pushed subjects.sha256 %q", b, err, subjectsData)
	}
	subjects, err := artifact.ParseSubjects(bytes.NewReader(subjectsData), "subjects.sha256")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range subjects {
		names = append(names, s.Name)
		if got := fileDigest(t, files[path.Base(s.Name)]); got != s.Digest {
			t.Errorf("pushed %s has %s, the subjects file says %s", s.Name, got, s.Digest)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(w.artifacts))) {
		t.Errorf("subjects = %v, want %v", names, w.artifacts)
	}
	if got, want := r.Value(t, "provenance-digest"), fileDigest(t, files["provenance.intoto.sigstore.json"]).String(); got != want {
		t.Errorf("provenance-digest = %s, the pushed provenance has %s", got, want)
	}
	// sbom-digest is the first subject's SBOM: one of them.
	var sbomDigests []string
	for _, s := range w.sbomSubjects {
		sbom := path.Base(s) + ".cdx.json"
		sbomDigests = append(sbomDigests, fileDigest(t, files[sbom]).String())
		if !bytes.Contains(readFile(t, files[sbom]), []byte(fileDigest(t, files[path.Base(s)]).Hex())) {
			t.Errorf("the SBOM %s does not name the sha256 of %s", sbom, s)
		}
	}
	if got := r.Value(t, "sbom-digest"); !slices.Contains(sbomDigests, got) {
		t.Errorf("sbom-digest = %s, not the digest of a pushed SBOM %v", got, sbomDigests)
	}

	rel.manifest, err = artifact.ReadManifest(files["manifest.json"])
	if err != nil {
		t.Fatal(err)
	}
	if rel.manifest.Build == nil || rel.manifest.Build.Command != w.command {
		t.Fatalf("manifest build = %+v, want the command %q", rel.manifest.Build, w.command)
	}
	if w.controlPlane != nil {
		w.controlPlane.checkAdmitted(t, r, rel, w.uploader)
	}

	// cosign verifies each signature for its own file only, the provenance for every artifact, and the SBOM
	// attestation for the SBOM's subject.
	for _, a := range w.artifacts {
		b := path.Base(a)
		verifyBlob(t, w, true, files[b], files[b+".sigstore.json"], "verify-blob")
		verifyBlob(t, w, true, files[b], files["provenance.intoto.sigstore.json"], "verify-blob-attestation", "--type", "slsaprovenance1")
	}
	first, second := path.Base(w.artifacts[0]), path.Base(w.artifacts[1])
	verifyBlob(t, w, false, files[second], files[first+".sigstore.json"], "verify-blob")
	for _, s := range w.sbomSubjects {
		b := path.Base(s)
		verifyBlob(t, w, true, files[b], files[b+".cdx.json.intoto.sigstore.json"], "verify-blob-attestation", "--type", "cyclonedx")
	}

	slipwayVerify(t, ws, pinned, w)

	// The provenance names the artifacts, the command and the configured builder.
	rel.provenance = statement(t, files["provenance.intoto.sigstore.json"])
	st := rel.provenance
	if st.PredicateType != "https://slsa.dev/provenance/v1" {
		t.Errorf("provenance predicateType = %q", st.PredicateType)
	}
	var got, wantSubjects []string
	for _, s := range st.Subject {
		got = append(got, s.Name+"@sha256:"+s.Digest["sha256"])
	}
	for _, s := range subjects {
		wantSubjects = append(wantSubjects, s.Name+"@"+s.Digest.String())
	}
	if !slices.Equal(got, wantSubjects) {
		t.Errorf("provenance subjects = %v, want %v", got, wantSubjects)
	}
	p := st.Predicate
	if p.BuildDefinition.ExternalParameters.Command != w.command {
		t.Errorf("provenance command = %q, want %q", p.BuildDefinition.ExternalParameters.Command, w.command)
	}
	if p.RunDetails.Builder.ID != builderID {
		t.Errorf("provenance builder.id = %q, want the configured %q", p.RunDetails.Builder.ID, builderID)
	}
	return rel
}

// releasePolicy is the trust policy of the e2e releases, for slipway verify and the control plane: signatures by
// signers (keys, or identities and root), provenance from the e2e builder and the sample's repository, at most a
// day old; more (a log or uploaders section) is appended.
func releasePolicy(signers string, more ...string) string {
	return "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nname: e2e-release\n" + signers +
		"builders:\n  - " + builderID + "\nsourceRepositories:\n  - git+https://github.com/" + SampleRepository + "\n" +
		"requiredPredicateTypes:\n  - https://slsa.dev/provenance/v1\nallowedPredicateTypes:\n  - https://cyclonedx.org/bom\nmaxAge: 1d\n" +
		strings.Join(more, "")
}

// slipwayVerify runs slipway verify (the image's binary, built by scripts/image) with releasePolicy (and, for a
// release uploaded to a control plane, receipts of its log required): on the pushed release by its digest
// (--image pinned: the release job signed and attested the OCI artifact it pushed), on the pulled manifest, and
// once more on the manifest after changing one byte of an artifact, which must fail.
func slipwayVerify(t *testing.T, ws, pinned string, w releaseWant) {
	t.Helper()
	slipway := slipwayBinary(t)
	var more []string
	if w.controlPlane != nil {
		more = append(more, w.controlPlane.logPolicy())
	}
	// The image in the registry carries its signature and provenance; the tests and the scan are about the
	// manifest's artifacts, so only the manifest's policy requires them.
	policy := writeFile(t, "policy.yaml", releasePolicy(w.signers, more...))
	manifestPolicy := writeFile(t, "policy.yaml", releasePolicy(w.signers, append(more, w.checks)...))
	verify := func(what ...string) (bool, string, error) {
		p := policy
		if what[1] == "--manifest" {
			p = manifestPolicy
		}
		cmd := exec.Command(slipway, append(what, "--policy", p, "--json")...)
		cmd.Dir = ws
		cmd.Env = []string{"PATH=" + systemPath, "HOME=" + t.TempDir()}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var rep struct {
			Verified bool `json:"verified"`
		}
		if jerr := json.Unmarshal(out, &rep); jerr != nil {
			t.Fatalf("slipway verify printed no JSON report (%v): %s\n%s", jerr, out, stderr.Bytes())
		}
		return rep.Verified, string(out), err
	}
	if ok, out, err := verify("verify", "--image", pinned); !ok || err != nil {
		t.Errorf("slipway verify --image %s: verified %t, %v; report:\n%s", pinned, ok, err, out)
	}
	ok, out, err := verify("verify", "--manifest", "dist/manifest.json")
	if !ok || err != nil {
		t.Errorf("slipway verify --manifest: verified %t, %v; report:\n%s", ok, err, out)
	}
	if w.checks != "" {
		checkTestsAndScan(t, out)
	}
	tampered := filepath.Join(ws, "dist", path.Base(w.artifacts[0]))
	f, err := os.OpenFile(tampered, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if ok, out, err := verify("verify", "--manifest", "dist/manifest.json"); ok || err == nil {
		t.Errorf("slipway verify accepted a changed %s: verified %t, %v; report:\n%s", w.artifacts[0], ok, err, out)
	}
}

// verifyBlob runs cosign verify-blob(-attestation) on file with bundle and the trust flags, and fails the test
// unless the outcome is wantOK.
func verifyBlob(t *testing.T, w releaseWant, wantOK bool, file, bundle string, args ...string) {
	t.Helper()
	args = append(append(append(args, "--new-bundle-format", "--bundle", bundle), w.trust...), file)
	cmd := exec.Command(w.cosign, args...)
	cmd.Env = []string{"PATH=" + systemPath, "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if (err == nil) != wantOK {
		t.Errorf("cosign %s %s with %s: %v (want success: %t)\n%s", args[0], filepath.Base(file), filepath.Base(bundle), err, wantOK, out)
	}
}

// cosignKey is a cosign key pair made for one test.
type cosignKey struct {
	private, password, publicPath string
}

// newCosignKeyPair runs `cosign generate-key-pair` with a random password.
func newCosignKeyPair(t *testing.T, cosign string) cosignKey {
	t.Helper()
	dir := t.TempDir()
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		t.Fatal(err)
	}
	password := hex.EncodeToString(pw)
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + systemPath, "HOME=" + dir, "COSIGN_PASSWORD=" + password}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return cosignKey{
		private:    string(readFile(t, filepath.Join(dir, "cosign.key"))),
		password:   password,
		publicPath: filepath.Join(dir, "cosign.pub"),
	}
}

// secretLines returns the lines of the private key that give it away (its base64 body, not the BEGIN/END lines).
func (k cosignKey) secretLines() []string {
	var out []string
	for _, line := range strings.Split(k.private, "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

// checkNoSecretLogged fails when the key's password or any line of the private key is in act's log (act's
// --json log holds every line a step printed, masked or not, with its raw text).
func checkNoSecretLogged(t *testing.T, r *Result, key cosignKey) {
	t.Helper()
	secrets := append(key.secretLines(), key.password)
	for _, l := range r.lines {
		// act's JSON log keeps the argument of ::add-mask:: (the runner consumes the command; GitHub never
		// shows it): that is the action asking for the mask, not a leak.
		if l.Command == "add-mask" {
			continue
		}
		for i, s := range secrets {
			if strings.Contains(l.raw, s) {
				what := "a line of the private key"
				if i == len(secrets)-1 {
					what = "the cosign password"
				}
				t.Errorf("act's log shows %s: %s", what, strings.ReplaceAll(l.raw, s, "<SECRET>"))
			}
		}
	}
}

// goEnv lets the runner's go build reuse this machine's build cache, offline.
func goEnv(t *testing.T, goTool string) map[string]string {
	t.Helper()
	return map[string]string{
		"GOCACHE":     strings.TrimSpace(run(t, goTool, "env", "GOCACHE")),
		"GOTOOLCHAIN": "local",
		"GOPROXY":     "off",
	}
}

type resourceDescriptor struct {
	Name   string            `json:"name"`
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// provenanceStatement is the part of an in-toto statement with SLSA v1 provenance that the tests read.
type provenanceStatement struct {
	PredicateType string               `json:"predicateType"`
	Subject       []resourceDescriptor `json:"subject"`
	Predicate     struct {
		BuildDefinition struct {
			ExternalParameters struct {
				Command string `json:"command"`
			} `json:"externalParameters"`
			ResolvedDependencies []resourceDescriptor `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
		} `json:"runDetails"`
	} `json:"predicate"`
}

// statement decodes the in-toto statement inside a Sigstore bundle's DSSE envelope.
func statement(t *testing.T, bundlePath string) provenanceStatement {
	t.Helper()
	var b struct {
		DSSEEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(readFile(t, bundlePath), &b); err != nil {
		t.Fatalf("%s: %v", bundlePath, err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil || b.DSSEEnvelope.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("%s: payload type %q, decoding: %v", bundlePath, b.DSSEEnvelope.PayloadType, err)
	}
	var st provenanceStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("%s: statement: %v", bundlePath, err)
	}
	return st
}

// run runs a tool and returns its standard output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// writeFile writes a small file into a new temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkTestsAndScan checks slipway verify's JSON report of a release whose workflow ran the test and scan
// stages: every artifact passed a tests check on the test-result bundle and a vulnerabilities check on the
// vulns bundle (the policy's sections judged them; none failed).
func checkTestsAndScan(t *testing.T, report string) {
	t.Helper()
	var rep struct {
		Subjects []struct {
			Name   string `json:"name"`
			Checks []struct {
				Check, Status, Bundle, Message string
			} `json:"checks"`
		} `json:"subjects"`
	}
	if err := json.Unmarshal([]byte(report), &rep); err != nil || len(rep.Subjects) == 0 {
		t.Fatalf("slipway verify's report (%v): %s", err, report)
	}
	for _, s := range rep.Subjects {
		passed := map[string]bool{}
		for _, c := range s.Checks {
			if c.Check != "tests" && c.Check != "vulnerabilities" {
				continue
			}
			if c.Status != "pass" {
				t.Errorf("%s: check %s %s on %s: %s", s.Name, c.Check, c.Status, c.Bundle, c.Message)
			}
			passed[c.Check+" "+path.Base(c.Bundle)] = c.Status == "pass"
		}
		if !passed["tests manifest.test-result.sigstore.json"] || !passed["vulnerabilities manifest.vulns.sigstore.json"] {
			t.Errorf("%s: no passing tests and vulnerabilities checks on the pushed test-result and vulns bundles: %v", s.Name, passed)
		}
	}
}
