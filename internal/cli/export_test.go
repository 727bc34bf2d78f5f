package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
)

// TestExportFromServe: a release made by the real stages and uploaded to a
// real slipway serve is exported from the server (and from its data
// directory, offline); slipway verify with receipts required passes on
// the export alone, and fails once an exported file or the receipt is
// changed. An export never lands in a directory that is not empty.
func TestExportFromServe(t *testing.T) {
	t.Parallel()
	sr := serveRelease(t)
	dir, data, tok, url, id := sr.dir, sr.data, sr.token, sr.url, sr.id
	policy := mustRead(t, filepath.Join(dir, "policy.yaml"))

	out := filepath.Join(t.TempDir(), "export")
	code, stdout, stderr := runCLI(t, dir, map[string]string{"SLIPWAY_TOKEN": tok}, "export", "--server", url, "--release", id, "--output", out)
	if code != 0 || nameValues(stdout)["release-id"] != id {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, tok) {
		t.Error("export printed the token")
	}
	for _, f := range []string{"manifest.json", "log.pub", "README.txt", id + ".receipt", "src/a.bin", "src/a.bin.receipt", "src/old.bin.receipt"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("the export lacks %s: %v", f, err)
		}
	}
	if readme, _ := os.ReadFile(filepath.Join(out, "README.txt")); !bytes.Contains(readme, []byte("slipway verify --manifest manifest.json")) {
		t.Errorf("README.txt does not say how to verify:\n%s", readme)
	}
	// The consumer's policy: the site's trust policy, receipts required,
	// the log key from the export (its path absolute: the policy is elsewhere).
	verifyPolicy := filepath.Join(dir, "export-policy.yaml")
	writeFile(t, verifyPolicy, string(policy)+"log:\n  verifierKey: "+filepath.Join(out, "log.pub")+"\n  receipts: required\n")
	verify := func() (int, string) {
		code, vout, verr := runCLI(t, out, nil, "verify", "--manifest", "manifest.json", "--policy", verifyPolicy)
		return code, vout + verr
	}
	if code, text := verify(); code != 0 || !strings.Contains(text, `admitted "src/a.bin"`) {
		t.Fatalf("verify of the export with receipts required: exit %d\n%s", code, text)
	}

	// Offline, from the data directory: the same files.
	offline := filepath.Join(t.TempDir(), "offline")
	if code, stdout, stderr := runCLI(t, dir, nil, "export", "--data", data, "--release", id, "--output", offline); code != 0 {
		t.Fatalf("export --data: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if a, b := tree(t, out), tree(t, offline); a != b {
		t.Errorf("export --data differs from export --server:\n%s\n---\n%s", b, a)
	}

	// A non-empty output is refused, and left as it was.
	code, _, stderr = runCLI(t, dir, map[string]string{"SLIPWAY_TOKEN": tok}, "export", "--server", url, "--release", id, "--output", out)
	if code != 2 || !strings.Contains(stderr, "not empty") {
		t.Errorf("export into a non-empty directory: exit %d, want 2\n%s", code, stderr)
	}
	// An unknown release: exit 2, nothing written.
	missing := filepath.Join(t.TempDir(), "missing")
	code, _, stderr = runCLI(t, dir, map[string]string{"SLIPWAY_TOKEN": tok}, "export", "--server", url, "--release", "r-0000000000000000", "--output", missing)
	if _, err := os.Stat(missing); code != 2 || !strings.Contains(stderr, "404") || err == nil {
		t.Errorf("export of an unknown release: exit %d (want 2), output left: %v\n%s", code, err == nil, stderr)
	}

	// Tampered exports fail verification: an artifact, a receipt the
	// manifest records, the provenance bundle.
	m, err := artifact.ReadManifest(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, from, to string }{
		{"src/a.bin", "the-a", "the-b"},
		{"src/a.bin.receipt", "", "\n— a line added"},
		{m.ByRole(artifact.RoleProvenance)[0].Path, "", " "},
	} {
		p := filepath.Join(out, filepath.FromSlash(tc.file))
		orig, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(orig), tc.from, tc.to, 1)
		if tc.from == "" {
			changed = string(orig) + tc.to
		}
		os.Chmod(p, 0o644)
		writeFile(t, p, changed)
		if code, text := verify(); code == 0 {
			t.Errorf("verify passed with %s changed:\n%s", tc.file, text)
		}
		writeFile(t, p, string(orig))
	}
	if code, text := verify(); code != 0 {
		t.Fatalf("verify after restoring the files: exit %d\n%s", code, text)
	}

	// A blob damaged on the server: the export checks it on arrival, fails
	// (exit 3) and leaves nothing, not even its temporary directory.
	a := m.ByRole(artifact.RoleArtifact)[0]
	blob := filepath.Join(data, "blobs", "sha256", a.Digest.Hex())
	orig, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(blob, 0o644)
	writeFile(t, blob, strings.Repeat("x", len(orig)))
	parent := t.TempDir()
	damaged := filepath.Join(parent, "damaged")
	code, _, stderr = runCLI(t, dir, map[string]string{"SLIPWAY_TOKEN": tok}, "export", "--server", url, "--release", id, "--output", damaged)
	if left, _ := os.ReadDir(parent); code != 3 || !strings.Contains(stderr, "arrived with") || len(left) != 0 {
		t.Errorf("export of a damaged blob: exit %d (want 3), %d entries left in the parent\n%s", code, len(left), stderr)
	}
}

// tree lists dir's files and their contents, README.txt excepted (it names
// where the export came from).
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() == "README.txt" {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + " " + string(data) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
