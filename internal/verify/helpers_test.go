package verify_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/verify"
)

const (
	workflowRef = "https://github.com/slipway/example/.github/workflows/release.yml@refs/tags/v1"
	builderID   = workflowRef
	sourceRepo  = "git+https://github.com/slipway/example"
)

// fixture is a subject with fresh keys and a private Sigstore, in a
// temporary directory.
type fixture struct {
	dir     string
	subject string // path
	sum     string // sha256 hex
	kp      *sign.EphemeralKeypair
	ss      *sigstoretest.Sigstore
	gpg     *openpgp.Entity
	// extraKeys are further policy keys, keys/<name>.pub.
	extraKeys []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), ss: policytest.NewSigstore(t)}
	content := make([]byte, 3<<20+17)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	f.subject = policytest.WriteFile(t, f.dir, "app.tar.gz", content)
	sum := sha256.Sum256(content)
	f.sum = hex.EncodeToString(sum[:])
	var pub, gpgPub []byte
	f.kp, pub = policytest.NewKeypair(t)
	policytest.WriteFile(t, f.dir, "keys/release.pub", pub)
	f.gpg, gpgPub = policytest.NewGPGKey(t, "maintainer")
	policytest.WriteFile(t, f.dir, "keys/maintainer.asc", gpgPub)
	policytest.WriteFile(t, f.dir, "trusted_root.json", f.ss.TrustedRootJSON(t))
	return f
}

// policy writes and loads a policy trusting the fixture's key, GPG key and
// the keyless identity workflowRef, plus extra YAML.
func (f *fixture) policy(t *testing.T, extra string) *policy.Policy {
	t.Helper()
	keys := ""
	for _, k := range f.extraKeys {
		keys += "  - name: " + k + "\n    path: keys/" + k + ".pub\n"
	}
	doc := `apiVersion: slipway.dev/v1
kind: TrustPolicy
name: test
keys:
  - name: release
    path: keys/release.pub
` + keys + `gpgKeys:
  - name: maintainer
    path: keys/maintainer.asc
identities:
  - name: release-workflow
    issuer: ` + sigstoretest.GitHubIssuer + `
    subject: ` + workflowRef + `
trustedRoot: trusted_root.json
` + extra
	path := policytest.WriteFile(t, f.dir, "policy.yaml", []byte(doc))
	p, err := policy.Load(path)
	if err != nil {
		t.Fatalf("loading the test policy: %v", err)
	}
	return p
}

// write writes a file into the fixture's directory and returns its path.
func (f *fixture) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	return policytest.WriteFile(t, f.dir, name, data)
}

// signBlob signs the subject's content as a message signature.
func (f *fixture) signBlob(t *testing.T, kp sign.Keypair, opts sign.BundleOptions) []byte {
	t.Helper()
	content, err := os.ReadFile(f.subject)
	if err != nil {
		t.Fatal(err)
	}
	return policytest.Bundle(t, &sign.PlainData{Data: content}, kp, opts)
}

// attest signs a statement about the subject (or about digest when given).
func (f *fixture) attest(t *testing.T, kp sign.Keypair, opts sign.BundleOptions, predicateType string, predicate any, digest ...string) []byte {
	t.Helper()
	sum := f.sum
	if len(digest) > 0 {
		sum = digest[0]
	}
	st := policytest.Statement(t, predicateType, predicate, policytest.Subject{Name: "app.tar.gz", SHA256: sum})
	return policytest.Bundle(t, policytest.DSSE(st), kp, opts)
}

// provenance is a SLSA v1 predicate by the allowed builder and source,
// finished at the Sigstore's current time.
func (f *fixture) provenance() map[string]any {
	return policytest.Provenance(builderID, sourceRepo, f.ss.Now().Add(-time.Minute).Format(time.RFC3339))
}

// verify verifies the fixture's subject with bundles against p at the
// Sigstore's clock.
func (f *fixture) verify(t *testing.T, p *policy.Policy, bundles ...string) *verify.SubjectReport {
	t.Helper()
	v := verify.New(p, verify.WithClock(f.ss.Now))
	r, err := v.Verify(context.Background(), []verify.Subject{{Name: "app.tar.gz", Path: f.subject, Bundles: bundles}})
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	if len(r.Subjects) != 1 {
		t.Fatalf("report has %d subjects", len(r.Subjects))
	}
	return r.Subjects[0]
}

// lines renders a subject report's checks.
func lines(s *verify.SubjectReport) string {
	var b strings.Builder
	for _, c := range s.Checks {
		b.WriteString(c.Line())
		b.WriteString("\n")
	}
	return b.String()
}

// expect asserts the report's outcome and that each want is a substring of
// some line (prefixed "PASS "/"FAIL " and the check name as rendered).
func expect(t *testing.T, s *verify.SubjectReport, verified bool, want ...string) {
	t.Helper()
	out := lines(s)
	t.Logf("report:\n%s", out)
	if s.Verified != verified {
		t.Errorf("Verified = %v, want %v; report:\n%s", s.Verified, verified, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q; report:\n%s", w, out)
		}
	}
}

// tamperJSON rewrites a bundle's JSON with replace applied to its text.
func tamper(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if !strings.Contains(string(b), old) {
		t.Fatalf("bundle does not contain %q:\n%s", old, b)
	}
	return []byte(strings.Replace(string(b), old, new, 1))
}

func filepathBase(p string) string { return filepath.Base(p) }
