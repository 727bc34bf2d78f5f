package e2e

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/scan/scantest"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// goCommand builds the sample's shell program and tarball, then compiles its Go program with the runner's Go
// toolchain (build-mode: runner).
const goCommand = "sh build.sh dist && go build -trimpath -buildvcs=false -o dist/hello-go ./cmd/hello-go"

// TestRelease runs the shipped reusable release workflow through a caller, signing with a cosign key generated
// by the real cosign CLI and passed as secrets (the key reaches sign and attest as their cosign-key input, never
// as a file), and compiling Go on the runner (build-mode: runner) of a self-hosted label set (runs-on as a JSON
// list). The release goes to a control plane the test started (slipway serve, with a service token made by
// slipway token create, as the slipway-token secret) before the push. It pulls the
// release back by the digest the workflow output and checks every file, digest and bundle (checkRelease), the
// control plane's receipt among them, verified offline with receipts required; and
// that the Go program built on the runner runs and the runner's Go toolchain is what the manifest and the
// provenance record. The same run has the optional test stage (a TAP test script in the action image) and scan
// stage (a grype database the test wrote with scantest, committed in the project: an advisory about the Go
// standard library hello-go links): their outputs, and their attestations pushed, admitted by the control plane
// and verified by slipway verify under a policy with tests: and vulnerabilities: sections.
func TestRelease(t *testing.T) {
	takeTurn(t)
	cosign := tools.Require(t, "cosign")
	goTool := tools.Require(t, "go")
	reg := registry.Start(t)
	key := newCosignKeyPair(t, cosign)
	ref := reg + "/e2e/release:1.0.0"
	signers := "keys:\n  - name: e2e\n    path: " + key.publicPath + "\n"
	const checks = "tests:\n  required: true\n  result: PASSED\n" +
		"vulnerabilities:\n  required: true\n  maxSeverity: medium\n  maxAge: 1d\n"
	// No uploader rules: any valid upload token may publish.
	cp, tokens := startControlPlane(t, releasePolicy(signers, checks), []string{"e2e-release"})
	files := map[string]string{"test.sh": releaseTestScript}
	for name, content := range releaseScanDB(t) {
		files[name] = content
	}

	r := Run(t, Scenario{
		Workflow: "testdata/workflows/release.yml",
		Inputs: map[string]string{
			"ref":        ref,
			"build-mode": "runner",
			"command":    goCommand,
			"artifacts":  "dist/hello\ndist/hello-src.tar.gz\ndist/hello-go",
			"signing":    "key",
			// A self-hosted runner set, as a caller names it: act runs it on this machine ("self-hosted").
			"runs-on":    `["self-hosted","linux","slurm"]`,
			"toolchains": "go",
			"trace":      "true", // on the runner: act's runner mode, slipway build in a run: step on this machine
			"server":     cp.URL,
			// The optional stages: test after the build (in the action image), scan after the SBOMs.
			"test-command": "sh test.sh",
			"scan-db":      "ci/grype-db",
		},
		Files:     files,
		Secrets:   map[string]string{"COSIGN_KEY": key.private, "COSIGN_PASSWORD": key.password, "SLIPWAY_TOKEN": tokens[0]},
		HostTools: []string{"go"},
		Env:       goEnv(t, goTool),
	})
	rel := checkRelease(t, r, ref, releaseWant{
		job:          "release-key",
		artifacts:    []string{"dist/hello", "dist/hello-src.tar.gz", "dist/hello-go"},
		sbomSubjects: []string{"dist/hello", "dist/hello-src.tar.gz", "dist/hello-go"}, // no sbom-subject: every artifact
		command:      goCommand,
		cosign:       cosign,
		trust:        []string{"--key", key.publicPath, "--trusted-root", writeFile(t, "trusted_root.json", sigstoretest.KeyOnlyTrustedRoot), "--insecure-ignore-tlog"},
		signers:      signers,
		controlPlane: cp,
		uploader:     "token:e2e-release/",
		checks:       checks,
	})
	// One test passed; one finding (the stdlib advisory, medium: within maxSeverity medium).
	for name, want := range map[string]string{"test-result": "PASSED", "scan-findings": "1", "scan-max-severity": "medium",
		"scan-sarif": "dist/manifest.vulns.sarif"} {
		if got := r.Value(t, name); got != want {
			t.Errorf("workflow output %s = %q, want %q", name, got, want)
		}
	}
	checkNoSecretLogged(t, r, key)
	checkNoSecretLeaked(t, r, cp, map[string]string{"the upload token": tokens[0]})
	checkKeyNeverWritten(t, r, key)

	out, err := exec.Command(rel.files["hello-go"], "e2e").CombinedOutput()
	if err != nil || string(out) != "Hello, e2e! (hello-go)\n" {
		t.Errorf("the released hello-go printed %q (%v)", out, err)
	}
	goVersion := strings.TrimSpace(run(t, goTool, "env", "GOVERSION")) // go1.26.8
	if !slices.ContainsFunc(rel.manifest.Build.Toolchains, func(tc artifact.Tool) bool {
		return tc.Name == "go" && tc.Version == goVersion
	}) {
		t.Errorf("manifest toolchains = %+v, want the runner's go %s", rel.manifest.Build.Toolchains, goVersion)
	}
	if !slices.ContainsFunc(rel.provenance.Predicate.BuildDefinition.ResolvedDependencies, func(d resourceDescriptor) bool {
		return d.Name == "go" && strings.HasSuffix(d.URI, "@"+goVersion)
	}) {
		t.Errorf("provenance resolvedDependencies = %+v, want go %s", rel.provenance.Predicate.BuildDefinition.ResolvedDependencies, goVersion)
	}
	// Traced on the runner: the shell, the go command and the linker it ran (the compiler's work may come from
	// the build cache), with digests.
	goReal, err := filepath.EvalSymlinks(goTool)
	if err != nil {
		t.Fatal(err)
	}
	toolDir := strings.TrimSpace(run(t, goTool, "env", "GOTOOLDIR"))
	checkTraced(t, rel, goReal, filepath.Join(toolDir, "link"), realPath(t, "/bin/sh"))
}

// checkTraced checks that the release's build was traced and ran each of the host files want (by path and
// digest), and that the provenance lists them as file: dependencies with the same digests.
func checkTraced(t *testing.T, rel pushedRelease, want ...string) {
	t.Helper()
	b := rel.manifest.Build
	if !b.Traced {
		t.Fatalf("the manifest does not say the build was traced: %+v", b)
	}
	checkExecuted(t, rel, want, func(p string) string { return p })
}

// checkExecuted checks that the traced build ran the files want (named in the manifest by path(file)), each
// with the digest of the file on this machine, in the manifest and the provenance.
func checkExecuted(t *testing.T, rel pushedRelease, want []string, path func(string) string) {
	t.Helper()
	deps := map[string]string{}
	for _, d := range rel.provenance.Predicate.BuildDefinition.ResolvedDependencies {
		deps[d.URI] = d.Digest["sha256"]
	}
	for _, f := range want {
		d, _, err := digest.File(f)
		if err != nil {
			t.Fatal(err)
		}
		p := path(f)
		if !slices.ContainsFunc(rel.manifest.Build.Executed, func(e artifact.Executable) bool { return e.Path == p && e.Digest == d }) {
			t.Errorf("the manifest's executed list has no %s with digest %s: %+v", p, d, rel.manifest.Build.Executed)
		}
		if deps["file://"+p] != d.Hex() {
			t.Errorf("the provenance has file://%s with digest %q, want %s", p, deps["file://"+p], d.Hex())
		}
	}
}

// realPath is p with symbolic links resolved.
func realPath(t *testing.T, p string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

// TestReleaseKeyless runs the release workflow's keyless job (the one with id-token: write) with the build in
// the action image (build-mode: container) and an archive that the SBOM describes. The runner's OIDC token
// endpoint (GitHub's wire format: act has none, so the runner environment of act, never its arguments, names
// it), its issuer (a real discovery document and JWKS), Fulcio, Rekor and the timestamp authority are the test's
// own (sigstoretest); cosign verifies the pushed bundles against their trusted root and the workflow's identity.
// Before the push the job uploads the release to a control plane the test started (slipway serve
// --oidc-audience) with no token: the job's OIDC ID token for server-audience, which the policy's uploader rule
// for this repository and reusable workflow admits; the pulled release verifies offline with receipts required.
// Neither the token endpoint's request token nor any ID token is in act's or the server's log.
func TestReleaseKeyless(t *testing.T) {
	takeTurn(t)
	cosign := tools.Require(t, "cosign")
	reg := registry.Start(t)
	ref := reg + "/E2E/Keyless:1.0.0" // as ghcr.io/${{ github.repository }} of an owner with capitals: pushed lowercased
	// The job that signs is the reusable workflow's: Fulcio certifies its job_workflow_ref.
	const jobWorkflow = "slipway/actions/.github/workflows/release.yml@refs/tags/v1"
	// An issuer the control plane can fetch keys from (GitHub's is not reachable here), certified by Fulcio as
	// GitHub's is.
	iss := sigstoretest.StartOIDCIssuer(t, "")
	ss := sigstoretest.Start(t, iss.Issuer, sigstoretest.WithGitHubIssuer())
	claims := sigstoretest.GitHubClaims(SampleRepository, ".github/workflows/release.yml")
	claims["job_workflow_ref"] = jobWorkflow
	claims["run_id"] = "1" // what act reports as GITHUB_RUN_ID
	claims["runner_environment"] = "self-hosted"
	tokens := sigstoretest.StartTokenEndpoint(t, iss.Issuer, claims)

	trustedRoot := ss.WriteTrustedRoot(t)
	signers := "identities:\n  - name: release-workflow\n    issuer: " + iss.URL +
		"\n    subject: https://github.com/" + jobWorkflow + "\ntrustedRoot: " + trustedRoot + "\ntlog: required\n"
	const audience = "https://slipway.e2e.invalid"
	cp, _ := startControlPlane(t, releasePolicy(signers, `uploaders:
  - name: e2e-release-workflow
    oidc:
      issuer: `+iss.URL+`
      repositoryID: "`+claims["repository_id"].(string)+`"
      jobWorkflowRef: `+jobWorkflow+`
      runnerEnvironment: self-hosted
    repositories: ["git+https://github.com/`+SampleRepository+`"]
`), nil, "--oidc-audience", audience)

	const command = "sh build.sh dist"
	r := Run(t, Scenario{
		Workflow: "testdata/workflows/release.yml",
		Inputs: map[string]string{
			"ref":             ref,
			"build-mode":      "container",
			"command":         command,
			"artifacts":       "dist/hello\ndist/hello-src.tar.gz",
			"archive":         "hello.tar.gz",
			"sbom-subject":    "dist/*.tar.gz\n!dist/hello-src.tar.gz",
			"signing":         "keyless",
			"trace":           "true", // in the action container, run by act through Podman
			"tlog":            "true",
			"fulcio-url":      ss.FulcioURL,
			"rekor-url":       ss.RekorURL,
			"tsa-url":         ss.TSAURL,
			"server":          cp.URL,
			"server-audience": audience,
		},
		RunnerEnv: tokens.Env(),
	})
	rel := checkRelease(t, r, ref, releaseWant{
		job:          "release-keyless",
		artifacts:    []string{"dist/hello", "dist/hello-src.tar.gz", "dist/hello.tar.gz"},
		sbomSubjects: []string{"dist/hello.tar.gz"},
		command:      command,
		cosign:       cosign,
		trust: []string{"--trusted-root", trustedRoot, "--certificate-identity", "https://github.com/" + jobWorkflow,
			"--certificate-oidc-issuer", iss.URL, "--insecure-ignore-sct"},
		signers:      signers,
		controlPlane: cp,
		uploader:     "oidc:" + SampleRepository + ":" + jobWorkflow,
	})
	checkNoSecretLeaked(t, r, cp, map[string]string{"the token endpoint's request token": tokens.RequestToken})
	// The upload step masks the runtime's request token (act, unlike GitHub's runner, does not).
	if !slices.ContainsFunc(r.lines, func(l logLine) bool { return l.Command == "add-mask" && l.Arg == tokens.RequestToken }) {
		t.Error("no step masked the token endpoint's request token")
	}
	// Traced in the action container: busybox (the image's /bin/busybox, copied from this machine's by
	// scripts/image-root) ran the build script.
	checkExecuted(t, rel, []string{realPath(t, "/bin/busybox")}, func(string) string { return "/bin/busybox" })
	// sign, attest provenance, attest SBOM, sign image and attest image each get one token and one certificate
	// (reused for every file), the upload one per request to the control plane; the 3 artifact signatures, the
	// 2 attestations, the image's 2 signatures (cosign's .sig tag and the referrer bundle) and its provenance are
	// each logged in Rekor and timestamped.
	if got := tokens.Requests.Load(); got <= 5 {
		t.Errorf("the token endpoint handed out %d tokens, want 5 for Sigstore and more for the upload", got)
	}
	if got := ss.Certificates.Load(); got != 5 {
		t.Errorf("Fulcio issued %d certificates, want 5", got)
	}
	if e, ts := ss.Entries.Load(), ss.Timestamps.Load(); e != 8 || ts != 8 {
		t.Errorf("Rekor logged %d entries and the TSA issued %d timestamps, want 8 each", e, ts)
	}
}

// releaseTestScript is TestRelease's test command: a TAP stream about the built program, run by slipway test in
// the action image (busybox sh).
const releaseTestScript = `#!/bin/sh
echo 'TAP version 13'
echo '1..1'
if [ "$(sh dist/hello e2e)" = 'Hello, e2e! (hello 1.0.0)' ]; then
	echo 'ok 1 - hello greets'
else
	echo 'not ok 1 - hello greets'
fi
`

// releaseScanDB writes a grype v6 database with one advisory about the Go standard library (which the
// runner's go links into hello-go, and the SBOM lists as pkg:golang/stdlib) and returns its files as the
// project's ci/grype-db/, committed: the workspace is all the scan's action container sees.
func releaseScanDB(t *testing.T) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "grype-db")
	scantest.WriteDB(t, dir, scantest.Options{Built: time.Now().Add(-time.Hour), Source: "e2e"},
		scantest.Vuln{ID: "CVE-2099-0301", Severity: "medium", Provider: "github", Ecosystem: "go-module", Package: "stdlib",
			VersionType: "go", Constraint: ">= 1.22.0", Description: "stdlib: an e2e test advisory"})
	out := map[string]string{}
	for _, f := range []string{"vulnerability.db", "import.json"} {
		out["ci/grype-db/"+f] = string(readFile(t, filepath.Join(dir, f)))
	}
	return out
}
