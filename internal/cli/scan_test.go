package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/scan"
	"github.com/slipway/actions/internal/scan/scantest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

var runScan = stageRunner("scan")

var scanOutputLine = regexp.MustCompile(`(?m)^(findings|max-severity|attestation|sarif)=(.*)$`)

// scanWorkspace is a C program linked against zlib, recorded in
// dist/manifest.json, with its native-binary SBOM made by "slipway sbom",
// and a database (outside the workspace) with an advisory about Debian's
// zlib and one about glibc fixed long ago.
func scanWorkspace(t *testing.T, built time.Time) (dir, db string) {
	t.Helper()
	gcc := tools.Require(t, "gcc")
	dir = t.TempDir()
	src := filepath.Join(t.TempDir(), "app.c")
	if err := os.WriteFile(src, []byte("#include <zlib.h>\n#include <stdio.h>\nint main(void) { puts(zlibVersion()); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(gcc, "-o", filepath.Join(dir, "app"), src, "-lz").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	d, n, err := digest.File(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "app", Path: "app", Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runSBOM(t, dir, nil, "--manifest", "dist/manifest.json"); code != 0 {
		t.Fatalf("slipway sbom: exit %d\n%s%s", code, stdout, stderr)
	}
	db = filepath.Join(t.TempDir(), "grype", "6")
	scantest.WriteDB(t, db, scantest.Options{Built: built, Source: "https://mirror.example/grype/v6/vulnerability-db.tar.zst"},
		scantest.Vuln{ID: "CVE-2099-0101", Severity: "high", Provider: "debian", Ecosystem: "deb", Package: "zlib", Distro: "debian:12",
			VersionType: "dpkg", Constraint: "< 1:99.0-1", FixedIn: "1:99.0-1"},
		scantest.Vuln{ID: "CVE-2099-0102", Severity: "critical", Provider: "debian", Ecosystem: "deb", Package: "glibc", Distro: "debian:12",
			VersionType: "dpkg", Constraint: "< 2.0-1", FixedIn: "2.0-1"})
	return dir, db
}

// TestScanCommand: slipway scan of a native binary's SBOM against a local
// database prints the contract's outputs, writes SARIF and a vulns
// attestation that the real cosign verifies, and records it in the manifest;
// db may name grype's cache root (the directory holding 6/).
func TestScanCommand(t *testing.T) {
	t.Parallel()
	dir, db := scanWorkspace(t, time.Now().Add(-2*time.Hour))
	key := sigstoretest.NewCosignKey(t, "pw")
	code, stdout, stderr := runScan(t, dir, map[string]string{"COSIGN_PASSWORD": key.Password},
		"--manifest", "dist/manifest.json", "--db", filepath.Dir(db), "--key", key.PrivatePath, "--tlog=false")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	out := map[string]string{}
	for _, m := range scanOutputLine.FindAllStringSubmatch(stdout, -1) {
		out[m[1]] = m[2]
	}
	want := map[string]string{"findings": "1", "max-severity": "high",
		"attestation": "dist/manifest.vulns.sigstore.json", "sarif": "dist/manifest.vulns.sarif"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s=%q, want %q (stdout %s)", k, out[k], v, stdout)
		}
	}
	for _, s := range []string{"CVE-2099-0101", "zlib1g", "Findings by severity", "https://mirror.example/grype/v6/vulnerability-db.tar.zst"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("the summary does not mention %q:\n%s", s, stderr)
		}
	}
	var sarif struct {
		Version string
		Runs    []struct{ Results []struct{ RuleID string } }
	}
	b, err := os.ReadFile(filepath.Join(dir, "dist", "manifest.vulns.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) != 1 || sarif.Runs[0].Results[0].RuleID != "CVE-2099-0101" {
		t.Errorf("SARIF (%v): %s", err, b)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	recs := m.ByRole(artifact.RoleAttestation)
	if len(recs) != 1 || recs[0].Name != "dist/manifest.vulns.sigstore.json#app" {
		t.Errorf("attestation records %+v", recs)
	}
	cosign := tools.Require(t, "cosign")
	cmd := exec.Command(cosign, "verify-blob-attestation", "--key", key.PublicPath, "--new-bundle-format",
		"--bundle", filepath.Join(dir, "dist", "manifest.vulns.sigstore.json"),
		"--trusted-root", sigstoretest.WriteKeyOnlyTrustedRoot(t), "--insecure-ignore-tlog", "--type", scan.PredicateType, filepath.Join(dir, "app"))
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cosign verify-blob-attestation: %v\n%s", err, b)
	}
}

// TestScanCommandDBErrors: a missing, stale or changed database, or one
// without import.json, is a usage error naming the file and the fix, and
// nothing is written.
func TestScanCommandDBErrors(t *testing.T) {
	t.Parallel()
	dir, db := scanWorkspace(t, time.Now().Add(-10*24*time.Hour))
	key := sigstoretest.NewCosignKey(t, "pw")
	changed := filepath.Join(t.TempDir(), "changed")
	copyDir(t, db, changed)
	f, err := os.OpenFile(filepath.Join(changed, "vulnerability.db"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("tampered"))
	_ = f.Close()
	unimported := filepath.Join(t.TempDir(), "unimported")
	copyDir(t, db, unimported)
	if err := os.Remove(filepath.Join(unimported, "import.json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing", []string{"--db", filepath.Join(db, "nope")}, []string{"does not exist", "grype db import"}},
		{"stale", []string{"--db", db}, []string{"vulnerability.db", "older than the 120h0m0s allowed", "db-max-age"}},
		{"changed", []string{"--db", changed, "--db-max-age", "30d"}, []string{"is corrupt or was changed", "vulnerability.db"}},
		{"no import.json", []string{"--db", unimported, "--db-max-age", "30d"}, []string{"import.json", "grype db import"}},
		{"bad age", []string{"--db", db, "--db-max-age", "soon"}, []string{`input "db-max-age"`}},
		{"no db", nil, []string{"db"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false"}, tc.args...)
			code, stdout, stderr := runScan(t, dir, map[string]string{"COSIGN_PASSWORD": key.Password}, args...)
			if code != 2 {
				t.Errorf("exit %d, want 2:\n%s%s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			for _, p := range []string{"dist/manifest.vulns.sigstore.json", "dist/manifest.vulns.sarif"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}
