package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestDemo runs the whole pipeline the README's first command runs, and
// checks what it left: every role in the manifest, each record's file with
// the recorded digest, the private key gone, and the push's pinned ref.
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
	ws := filepath.Join(dir, "workspace")
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
	for _, role := range []artifact.Role{artifact.RoleArtifact, artifact.RoleSBOM, artifact.RoleSignature, artifact.RoleProvenance} {
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
		return err
	})
	if err != nil {
		t.Fatal(err)
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
