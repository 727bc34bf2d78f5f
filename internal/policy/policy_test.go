package policy_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// indent indents every line of s by n spaces, for a YAML block scalar.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

// exampleDir copies the example policy into a temporary directory with the
// files it names, made fresh: no key is committed.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	example, err := os.ReadFile(filepath.Join("testdata", "example-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policytest.WriteFile(t, dir, "policy.yaml", example)
	_, pub := policytest.NewKeypair(t)
	policytest.WriteFile(t, dir, "keys/release.pub", pub)
	_, gpgPub := policytest.NewGPGKey(t, "maintainer")
	policytest.WriteFile(t, dir, "keys/maintainer.asc", gpgPub)
	policytest.WriteFile(t, dir, "sigstore/trusted_root.json", policytest.NewSigstore(t).TrustedRootJSON(t))
	return dir
}

func TestExamplePolicy(t *testing.T) {
	t.Parallel()
	p, err := policy.Load(filepath.Join(exampleDir(t), "policy.yaml"))
	if err != nil {
		t.Fatalf("Load(example) = %v", err)
	}
	if p.Name != "example-release" || len(p.Keys) != 1 || len(p.Identities) != 1 || len(p.GPGKeys) != 1 {
		t.Fatalf("signers = %d keys, %d identities, %d gpg keys; want 1 each", len(p.Keys), len(p.Identities), len(p.GPGKeys))
	}
	if !strings.HasPrefix(p.Keys[0].Fingerprint, "SHA256:") || len(p.GPGKeys[0].Fingerprints[0]) != 40 {
		t.Errorf("fingerprints = %q, %q", p.Keys[0].Fingerprint, p.GPGKeys[0].Fingerprints)
	}
	if p.MaxAge != 30*24*time.Hour || p.Tlog != policy.TlogOptional || p.TrustedRoot == nil || p.Thresholds.TlogEntries != 1 {
		t.Errorf("maxAge %v, tlog %q, trusted root %v, thresholds %+v", p.MaxAge, p.Tlog, p.TrustedRoot != nil, p.Thresholds)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v1", true},
		{"https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v1.2.3", true},
		{"https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v10", false},
		{"https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v1.2.3-evil", false},
		{"https://github.com/slipway/example/.github/workflows/release.yml@refs/heads/main", false},
	} {
		if _, got := p.MatchBuilder(tc.id); got != tc.want {
			t.Errorf("MatchBuilder(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
	id := p.Identities[0]
	if err := id.Match(sigstoretest.GitHubIssuer, "https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v2.0"); err != nil {
		t.Errorf("identity does not match a release tag: %v", err)
	}
	if err := id.Match(sigstoretest.GitHubIssuer, "https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v2.0-x"); err == nil {
		t.Error("identity regexp is not anchored at the end")
	}
	if err := id.Match("https://evil.example", "https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v2"); err == nil {
		t.Error("identity matched another issuer")
	}
	if !p.PredicateTypeAllowed(policy.CycloneDX) || p.PredicateTypeAllowed("https://example.com/other/v1") || !p.RequiresProvenance() {
		t.Error("predicate types not as the example says")
	}
	if p.Tests == nil || !p.Tests.Required || p.Tests.Result != policy.TestPassed {
		t.Errorf("tests = %+v, want required, PASSED", p.Tests)
	}
	if v := p.Vulnerabilities; v == nil || !v.Required || v.MaxSeverity != policy.SeverityHigh || v.MaxAge != 7*24*time.Hour ||
		len(v.Ignore) != 1 || v.Ignore[0].ID != "CVE-2024-1234" || !v.Ignore[0].Expires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("vulnerabilities = %+v", v)
	}
}

// TestDocsEmbedExample proves docs/policy.md shows the example policy that
// the tests load, byte for byte.
func TestDocsEmbedExample(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join("testdata", "example-policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(docs, append(append([]byte("```yaml\n"), example...), "```"...)) {
		t.Error("docs/policy.md does not embed internal/policy/testdata/example-policy.yaml in a ```yaml block; copy it there")
	}
}

func TestIsSBOMPredicate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"https://cyclonedx.org/bom": true, "https://cyclonedx.org/bom/v1.6": true, "https://spdx.dev/Document/v2.3": true,
		"https://cyclonedx.org/bomb": false, "https://slsa.dev/provenance/v1": false,
	} {
		if got := policy.IsSBOMPredicate(in); got != want {
			t.Errorf("IsSBOMPredicate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := policy.ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3 days", "-1h", "0d", "xd"} {
		if _, err := policy.ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) succeeded", in)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := policy.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var pe *policy.Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "reading the policy") {
		t.Fatalf("Load(missing) = %v", err)
	}
}

// TestLoadOnlyRegularFiles: a FIFO as the policy or as a key file the
// policy names, and /dev/zero as a key file, are refused at once instead of
// blocking or being read forever.
func TestLoadOnlyRegularFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"fifo key":  header + "keys:\n  - name: k\n    path: fifo\n",
		"zero key":  header + "keys:\n  - name: k\n    path: /dev/zero\n",
		"fifo root": header + "keys:\n  - name: k\n    path: fifo\ntrustedRoot: fifo\n",
	} {
		policytest.WriteFile(t, dir, name+".yaml", []byte(doc))
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "reading the policy: \"" + fifo + "\" is a named pipe (FIFO), not a regular file"},
		{filepath.Join(dir, "fifo key.yaml"), `field "keys[0].path": reading "fifo": "` + fifo + `" is a named pipe (FIFO)`},
		{filepath.Join(dir, "zero key.yaml"), `field "keys[0].path": reading "/dev/zero": "/dev/zero" is a character device`},
		{filepath.Join(dir, "fifo root.yaml"), `field "trustedRoot": reading "fifo"`},
	} {
		done := make(chan error, 1)
		go func() { _, err := policy.Load(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%q) = %v, want an error containing %q", tc.path, err, tc.want)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("Load(%q) did not return: it blocks on a file that is not a regular file", tc.path)
		}
	}
}
