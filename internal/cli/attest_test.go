package cli

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

var attestOutputLine = regexp.MustCompile(`(?m)^(bundle-path|bundle-digest|predicate-type|image|attestations)=(.*)$`)

func attestOutputs(stdout string) map[string]string {
	out := map[string]string{}
	for _, m := range attestOutputLine.FindAllStringSubmatch(stdout, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// attestWorkspace writes one artifact and its manifest into a new directory.
func attestWorkspace(t *testing.T) (dir string, app artifact.Record) {
	t.Helper()
	dir = t.TempDir()
	path := filepath.Join(dir, "dist", "app")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("the app\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, n, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	app = artifact.Record{Name: "dist/app", Path: "dist/app", Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact}
	m := artifact.NewManifest()
	m.Build = &artifact.BuildInfo{
		Command: "make", Repository: "git+https://github.com/o/r", Ref: "refs/heads/main", Commit: strings.Repeat("a", 40),
		StartedOn: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), FinishedOn: time.Date(2026, 11, 25, 10, 1, 0, 0, time.UTC),
	}
	m.Add(app)
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	return dir, app
}

// TestAttestCommand attests a manifest through the CLI with a cosign key,
// checks the outputs and the manifest, and has the real cosign CLI verify
// the bundle.
func TestAttestCommand(t *testing.T) {
	t.Parallel()
	dir, app := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	code, stdout, stderr := runAttest(t, dir, map[string]string{"COSIGN_PASSWORD": key.Password},
		"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	out := attestOutputs(stdout)
	if out["bundle-path"] != "dist/provenance.intoto.sigstore.json" || out["predicate-type"] != "https://slsa.dev/provenance/v1" {
		t.Errorf("outputs = %v", out)
	}
	bundlePath := filepath.Join(dir, "dist", "provenance.intoto.sigstore.json")
	d, _, err := digest.File(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if out["bundle-digest"] != d.String() {
		t.Errorf("bundle-digest = %q, want %s", out["bundle-digest"], d)
	}
	if !strings.Contains(stderr, "https://slipway.dev/builders/local-unverified/v1") {
		t.Errorf("the summary does not name the builder:\n%s", stderr)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if recs := m.ByRole(artifact.RoleProvenance); len(recs) != 1 || recs[0].Describes != app.Digest || recs[0].Digest != d {
		t.Errorf("provenance records = %+v", recs)
	}

	cosign := tools.Require(t, "cosign")
	cmd := exec.Command(cosign, "verify-blob-attestation", "--key", key.PublicPath, "--new-bundle-format", "--bundle", bundlePath,
		"--trusted-root", sigstoretest.WriteKeyOnlyTrustedRoot(t), "--insecure-ignore-tlog", "--type", "slsaprovenance1", filepath.Join(dir, "dist", "app"))
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cosign verify-blob-attestation: %v\n%s", err, b)
	}
}

func TestAttestCommandErrors(t *testing.T) {
	t.Parallel()
	dir, _ := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	withKey := map[string]string{"COSIGN_PASSWORD": key.Password}
	selfHosted := maps.Clone(withKey)
	maps.Copy(selfHosted, map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/x.yml@refs/heads/main",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"),
	})
	hosted := maps.Clone(selfHosted)
	hosted["RUNNER_ENVIRONMENT"] = "github-hosted"
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		wantErr string
	}{
		{"no key", nil, []string{"--manifest", "dist/manifest.json"}, 2, "no signing key: set key"},
		{"key and keyless", withKey, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--keyless"}, 2, "both key and keyless are set"},
		{"tlog without rekor", withKey, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--rekor-url", ""}, 2, "tlog is true but rekor-url is empty"},
		{"wrong password", map[string]string{"COSIGN_PASSWORD": "nope"}, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false"}, 2, "COSIGN_PASSWORD secret is wrong"},
		{"bad predicate type", withKey, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--predicate-type", "vuln"}, 2, `input "predicate-type": predicate type "vuln" is not supported`},
		{"bad size", withKey, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--sbom-inline-limit", "lots"}, 2, `input "sbom-inline-limit"`},
		{"bad registry format", withKey, []string{"--image", "localhost:1/x:1", "--key", key.PrivatePath, "--registry-format", "oci"}, 2, `input "registry-format"`},
		{"self-hosted without builder-id", selfHosted, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false"}, 2, "self-hosted runner"},
		{"github-hosted with builder-id", hosted, []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false", "--builder-id", "https://hpc.example.org/pool"}, 2, "remove builder-id"},
		{"keyless outside actions", nil, []string{"--manifest", "dist/manifest.json", "--keyless", "--tlog=false"}, 2, "add \"permissions: id-token: write\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runAttest(t, dir, tc.env, tc.args...)
			all := stdout + stderr
			if code != tc.code || !strings.Contains(all, tc.wantErr) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.code, tc.wantErr, all)
			}
			if _, err := os.Stat(filepath.Join(dir, "dist", "provenance.intoto.sigstore.json")); err == nil {
				t.Error("a bundle was written despite the error")
			}
		})
	}
}

// TestAttestKeyNamesTheJobWorkflow signs with a key on a GitHub-hosted
// runner inside a reusable workflow: the builder is the job's workflow, as
// the runner gives it to the job-workflow-ref input (the action's default,
// ${{ job.workflow_ref }}), the same ID keyless signing takes from the
// job_workflow_ref claim; not GITHUB_WORKFLOW_REF, the caller's workflow.
func TestAttestKeyNamesTheJobWorkflow(t *testing.T) {
	t.Parallel()
	dir, _ := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	const jobWorkflow = "slipway/actions/.github/workflows/release.yml@refs/tags/v1"
	env := map[string]string{
		"COSIGN_PASSWORD": key.Password, "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42",
		"GITHUB_WORKFLOW_REF": "o/r/.github/workflows/release.yml@refs/tags/v2.0.0", "RUNNER_ENVIRONMENT": "github-hosted",
		"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"), "INPUT_JOB-WORKFLOW-REF": jobWorkflow,
	}
	code, stdout, stderr := runAttest(t, dir, env, "--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false")
	all := stdout + stderr
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, all)
	}
	if !strings.Contains(all, "id=https://github.com/"+jobWorkflow+" source=runner-environment") {
		t.Errorf("the builder is not the job's workflow:\n%s", all)
	}
}

// TestAttestKeylessUsesTheTokenClaims signs keyless on a GitHub-hosted
// runner against a private Sigstore: the builder ID comes from the OIDC
// token's job_workflow_ref claim (not from GITHUB_WORKFLOW_REF, which names
// another workflow here), the one token fetched to read it is the one sent
// to Fulcio, and the real cosign accepts the bundle for that identity.
func TestAttestKeylessUsesTheTokenClaims(t *testing.T) {
	t.Parallel()
	dir, _ := attestWorkspace(t)
	const jobWorkflow = "slipway/actions/.github/workflows/attest.yml@refs/tags/v1"
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	ss := sigstoretest.Start(t, iss)
	claims := sigstoretest.GitHubClaims("o/r", ".github/workflows/release.yml")
	claims["job_workflow_ref"] = jobWorkflow
	endpoint := sigstoretest.StartTokenEndpoint(t, iss, claims)
	env := endpoint.Env()
	maps.Copy(env, map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42",
		"GITHUB_WORKFLOW_REF": "o/r/.github/workflows/other.yml@refs/heads/main", "RUNNER_ENVIRONMENT": "github-hosted",
		"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"),
	})
	code, stdout, stderr := runAttest(t, dir, env, "--manifest", "dist/manifest.json", "--keyless",
		"--fulcio-url", ss.FulcioURL, "--rekor-url", ss.RekorURL, "--tsa-url", ss.TSAURL)
	all := stdout + stderr
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, all)
	}
	if !strings.Contains(all, "id=https://github.com/"+jobWorkflow+" source=oidc-token") {
		t.Errorf("the builder was not taken from the token's claims:\n%s", all)
	}
	if n := endpoint.Requests.Load(); n != 1 {
		t.Errorf("%d tokens requested, want 1 (the token read for the builder goes to Fulcio)", n)
	}
	if ss.Certificates.Load() != 1 || ss.Entries.Load() != 1 || ss.Timestamps.Load() != 1 {
		t.Errorf("Sigstore issued %d certificates, %d log entries, %d timestamps; want one each",
			ss.Certificates.Load(), ss.Entries.Load(), ss.Timestamps.Load())
	}
	cosign := tools.Require(t, "cosign")
	bundlePath := filepath.Join(dir, "dist", "provenance.intoto.sigstore.json")
	payload, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(payload, []byte(`"dsseEnvelope"`)) || !bytes.Contains(payload, []byte(`"tlogEntries"`)) {
		t.Errorf("bundle lacks the envelope or the log entry:\n%s", payload)
	}
	cmd := exec.Command(cosign, "verify-blob-attestation", "--new-bundle-format", "--bundle", bundlePath,
		"--trusted-root", ss.WriteTrustedRoot(t), "--certificate-identity", "https://github.com/"+jobWorkflow,
		"--certificate-oidc-issuer", sigstoretest.GitHubIssuer, "--insecure-ignore-sct", "--type", "slsaprovenance1",
		filepath.Join(dir, "dist", "app"))
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cosign verify-blob-attestation: %v\n%s", err, b)
	}
}
