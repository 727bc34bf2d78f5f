package sbom

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellTreeDigest runs the pipeline TreeDigest documents, with the real find,
// sort and sha256sum.
func shellTreeDigest(t testing.TB, dir string) string {
	t.Helper()
	for _, tool := range []string{"bash", "find", "sort", "xargs", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	cmd := exec.Command("bash", "-c", `cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum`, "bash", dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tree digest pipeline: %v", err)
	}
	return strings.Fields(string(out))[0]
}

func TestTreeDigest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "b.txt"), "b")
	mustWrite(t, filepath.Join(dir, "a", "z.txt"), "z")
	mustWrite(t, filepath.Join(dir, "a", "B.txt"), "upper")
	mustWrite(t, filepath.Join(dir, "a-b", "c"), "dash sorts before slash")
	mustWrite(t, filepath.Join(dir, "with space", "f"), "")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, n, err := TreeDigest(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := shellTreeDigest(t, dir); got.Hex() != want || n != 5 {
		t.Errorf("TreeDigest = %s over %d files, the shell pipeline says %s over 5", got.Hex(), n, want)
	}

	// Any content change changes the digest; a new symlink or empty directory does not.
	if err := os.Symlink("a", filepath.Join(dir, "link2")); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := TreeDigest(context.Background(), dir); again != got {
		t.Errorf("a symlink changed the digest")
	}
	mustWrite(t, filepath.Join(dir, "a", "z.txt"), "Z")
	if changed, _, _ := TreeDigest(context.Background(), dir); changed == got {
		t.Errorf("changing a file kept the digest")
	}
}

func TestTreeDigestErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "bad\nname"), "x")
	if _, _, err := TreeDigest(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "hashing directory") {
		t.Errorf("a file name with a line break: error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := TreeDigest(ctx, "testdata"); err == nil {
		t.Errorf("a cancelled context was ignored")
	}
}
