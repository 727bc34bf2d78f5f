package cli

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/githubfake"
)

// TestPublishCommand: slipway publish uploads the manifest's files and the
// manifest once, keeps them on a second run, and refuses bad input with
// exit 2 before GitHub is asked.
func TestPublishCommand(t *testing.T) {
	t.Parallel()
	gh := githubfake.New(t, "octo", "app")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := artifact.NewManifest()
	var subject digest.SHA256
	for _, f := range []struct {
		name, content string
		role          artifact.Role
	}{{"dist/app", "binary", artifact.RoleArtifact}, {"dist/app.receipt", "receipt\n", artifact.RoleReceipt}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
		d := digest.SHA256(sha256.Sum256([]byte(f.content)))
		r := artifact.Record{Name: f.name, Path: f.name, Digest: d, Size: int64(len(f.content)), MediaType: "application/octet-stream", Role: f.role}
		if f.role == artifact.RoleArtifact {
			subject = d
		} else {
			r.Describes, r.MediaType = subject, artifact.ReceiptMediaType
		}
		m.Add(r)
	}
	if err := m.WriteFile(filepath.Join(dir, "dist/manifest.json")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_TOKEN": githubfake.Token, "GITHUB_API_URL": gh.URL, "GITHUB_REPOSITORY": "octo/app",
		"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}
	for _, s := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{args: []string{"--tag", "v1", "--manifest", "dist/manifest.json"}, stdout: "uploaded=3\nkept=0\n"},
		{args: []string{"--tag", "v1", "--manifest", "dist/manifest.json"}, stdout: "uploaded=0\nkept=3\n"},
		{args: []string{"--tag", "v1", "--manifest", "dist/manifest.json", "--files", "../x"}, code: 2, stderr: `input "files"`},
		{args: []string{"--manifest", "dist/manifest.json"}, code: 2, stderr: `input "tag"`},
		{args: []string{"--tag", "v2", "--manifest", "dist/manifest.json", "--repository", "octo/other"}, code: 2, stderr: "404 Not Found"},
	} {
		code, stdout, stderr := runCLI(t, dir, env, append([]string{"publish"}, s.args...)...)
		if code != s.code || !strings.Contains(stdout, s.stdout) || !strings.Contains(stderr, s.stderr) {
			t.Fatalf("publish %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", s.args, code, stdout, stderr, s.code, s.stdout, s.stderr)
		}
	}
	gh.Lock()
	defer gh.Unlock()
	if len(gh.Releases) != 1 || len(gh.Releases[0].Assets) != 3 {
		t.Fatalf("releases: %+v", gh.Releases)
	}
}
