package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/demo"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/token"
)

// TestDemo runs the whole pipeline the README's first command runs, and
// checks what it left: every role in the manifest, each record's file with
// the recorded digest, the private key gone, the push's pinned ref, and the
// admission into the in-process control plane: a receipt record per
// artifact, the receipt verifying against the log's key, verify's receipt
// checks passing offline, and the upload token nowhere but as a hash.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program and runs every stage")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Env{
		Args: []string{"demo", "--dir", dir}, Stdout: &stdout, Stderr: &stderr,
		Getenv: os.Getenv, Getwd: os.Getwd,
	})
	if code != 0 {
		t.Fatalf("slipway demo exited %d:\n%s", code, stderr.String())
	}
	outs := parseOutputs(t, stdout.String())
	if outs["verified"] != "true" {
		t.Errorf("verified = %q, want true", outs["verified"])
	}
	if !strings.Contains(outs["pinned-ref"], "/demo/hello@sha256:") {
		t.Errorf("pinned-ref = %q", outs["pinned-ref"])
	}
	if !strings.HasPrefix(outs["release-id"], "r-") || outs["log-index"] != "0" || outs["receipt"] != "dist/"+outs["release-id"]+".receipt" {
		t.Errorf("release-id = %q, log-index = %q, receipt = %q", outs["release-id"], outs["log-index"], outs["receipt"])
	}
	// The tests ran after the build and passed; the same artifacts with a
	// failing test result were refused, the failed test named.
	if outs["test-result"] != "PASSED" || !strings.HasSuffix(outs["test-attestation"], ".test-result.sigstore.json") {
		t.Errorf("test-result = %q, test-attestation = %q; want PASSED and its bundle", outs["test-result"], outs["test-attestation"])
	}
	if !strings.Contains(stdout.String(), "FAIL tests      failing-tests.test-result.sigstore.json: the tests FAILED (0 passed, 0 warned, 1 failed; failed: example.com/hello/TestGreeting)") {
		t.Errorf("the demo did not show the policy refusing the release whose tests failed:\n%s", stdout.String())
	}
	// The scan ran after the SBOMs against the demo's own database: its two
	// demo records about the Go standard library were found, the low one
	// within maxSeverity medium, the high one accepted by the policy's
	// ignore entry, named with its reason.
	if outs["scan-findings"] != "2" || outs["scan-max-severity"] != "high" || outs["scan-attestation"] != "dist/manifest.vulns.sigstore.json" {
		t.Errorf("scan-findings = %q, scan-max-severity = %q, scan-attestation = %q; want 2, high and the vulns bundle",
			outs["scan-findings"], outs["scan-max-severity"], outs["scan-attestation"])
	}
	if !strings.Contains(stdout.String(), "found 2 vulnerabilities, none above maxSeverity medium but the 1 the policy ignores: "+demo.IgnoredVuln+" until ") {
		t.Errorf("the demo's verify did not show the ignored finding:\n%s", stdout.String())
	}
	ws := filepath.Join(dir, "workspace")
	checkDemoReceipts(t, dir, outs, stdout.String())
	m, err := artifact.ReadManifest(filepath.Join(ws, outs["manifest"]))
	if err != nil {
		t.Fatal(err)
	}
	if m.Build == nil || len(m.Build.Commit) != 40 || m.Build.Dirty {
		t.Errorf("build info = %+v, want a clean commit", m.Build)
	}
	roles := map[artifact.Role]int{}
	for _, r := range m.Records {
		roles[r.Role]++
		if r.Path == "" {
			continue
		}
		d, _, err := digest.File(filepath.Join(ws, r.Path))
		if err != nil {
			t.Errorf("record %q: %v", r.Name, err)
		} else if d != r.Digest {
			t.Errorf("record %q: file digest %s, manifest says %s", r.Name, d, r.Digest)
		}
	}
	for _, role := range []artifact.Role{artifact.RoleArtifact, artifact.RoleSBOM, artifact.RoleSignature, artifact.RoleProvenance, artifact.RoleAttestation} {
		if roles[role] == 0 {
			t.Errorf("manifest has no %s record: %v", role, roles)
		}
	}
	// The private key lived in memory only: no file the demo left holds it.
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a private key", p)
		}
		// The upload token: only its hash, in the control plane's store.
		if err == nil && bytes.Contains(b, []byte(token.Prefix)) && !strings.HasPrefix(p, filepath.Join(dir, "control-plane")+string(filepath.Separator)) {
			t.Errorf("%s holds a service token", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), token.Prefix) {
		t.Error("the demo printed a service token")
	}
}

// checkDemoReceipts checks the demo's admission: a receipt record in the
// manifest for each artifact, the receipt file a proof of the log whose
// key the control plane's data directory holds, and verify's report with
// a passing receipt check per artifact.
func checkDemoReceipts(t *testing.T, dir string, outs map[string]string, stdout string) {
	t.Helper()
	ws := filepath.Join(dir, "workspace")
	m, err := artifact.ReadManifest(filepath.Join(ws, outs["manifest"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		found := false
		for _, r := range m.ByRole(artifact.RoleReceipt) {
			found = found || r.Describes == a.Digest
		}
		if !found {
			t.Errorf("the manifest has no receipt record for artifact %q", a.Name)
		}
		if !strings.Contains(stdout, `admitted "`+a.Name+`" `+a.Digest.String()) {
			t.Errorf("verify's report has no passing receipt check for %q", a.Name)
		}
	}
	key, err := os.ReadFile(filepath.Join(dir, "control-plane", "log.pub"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := receipt.NewVerifier(strings.TrimSpace(string(key)))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(ws, outs["receipt"]))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := receipt.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := receipt.Verify(rc, nil, v); err != nil {
		t.Errorf("the receipt does not verify against the log's key: %v", err)
	}
	if !strings.Contains(string(rc.Entry), outs["release-id"]) {
		t.Errorf("the receipt's entry does not name release %q: %s", outs["release-id"], rc.Entry)
	}
	for _, line := range strings.Split(stdout, "\n") {
		// The one refusal the demo shows: its release with failing tests.
		if strings.HasPrefix(line, "FAIL") && !strings.HasPrefix(line, "FAIL tests      failing-tests.test-result.sigstore.json: ") {
			t.Errorf("verify reported %s", line)
		}
	}
}

// parseOutputs reads name=value and name<<DELIM lines written by the CLI
// reporter.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if name, delim, ok := strings.Cut(l, "<<"); ok {
			var v []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				v = append(v, lines[i])
			}
			out[name] = strings.Join(v, "\n")
			continue
		}
		if name, v, ok := strings.Cut(l, "="); ok {
			out[name] = v
		}
	}
	return out
}

// TestPipelineKeyFromSecret: the cosign-key secret (COSIGN_KEY) alone makes
// the pipeline sign and attest, as key does.
func TestPipelineKeyFromSecret(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_KEY": string(key.PrivatePEM), "COSIGN_PASSWORD": "pw"}
	code, stdout, stderr := runCLI(t, t.TempDir(), env, "pipeline", "--command", "mkdir -p dist && echo app > dist/app",
		"--artifacts", "dist/app", "--tlog=false", "--builder-id", "https://hpc.example.org/pool")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	outs := parseOutputs(t, stdout)
	if outs["signatures"] == "" || outs["provenance"] == "" {
		t.Errorf("outputs = %v, want signatures and provenance", outs)
	}
	if strings.Contains(stdout+stderr, "Skipped sign") || strings.Contains(stdout+stderr, "Skipped attest") {
		t.Errorf("a signing stage was skipped:\n%s\n%s", stdout, stderr)
	}
}

// TestPipelineSBOMEveryArtifact: the pipeline describes every artifact the
// build recorded, including one whose name holds a comma (a list separator
// in the sbom stage's subject input), each SBOM recorded against its digest.
func TestPipelineSBOMEveryArtifact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"PATH": os.Getenv("PATH")}
	code, stdout, stderr := runCLI(t, dir, env, "pipeline",
		"--command", "mkdir -p dist && echo a > dist/a.bin && echo b > 'dist/b,v2.bin'", "--artifacts", "dist/*.bin")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	outs := parseOutputs(t, stdout)
	if got := strings.Split(outs["sboms"], "\n"); len(got) != 2 {
		t.Errorf("sboms output = %q, want two paths", outs["sboms"])
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, outs["manifest"]))
	if err != nil {
		t.Fatal(err)
	}
	described := map[digest.SHA256]bool{}
	for _, r := range m.ByRole(artifact.RoleSBOM) {
		described[r.Describes] = true
	}
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		if !described[a.Digest] {
			t.Errorf("artifact %q has no SBOM record (SBOMs describe %v)", a.Name, described)
		}
	}
}
