package server_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/transparency-dev/formats/log"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/token"
)

// TestAdmitIdempotent: a release admitted once answers 201, the same
// manifest again (also with its receipts added) 200 with the first answer,
// and the log holds one entry for it.
func TestAdmitIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	tok := site.token(t, "ci", token.Upload, token.Read)
	s.release(t, dir, []byte("the artifact"), testBuilder, testSource)
	manifest := uploadAll(t, site.url, tok, dir)

	code, first := admit(t, site.url, tok, manifest)
	if code != http.StatusCreated {
		t.Fatalf("first admission: %d %+v", code, first)
	}
	rc := checkReceipt(t, site.tl.VerifierKey(), first.Receipt)
	e, err := entry.Parse(rc.Entry)
	if err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte("the artifact")))
	if e.Kind != entry.KindReleaseAdmitted || e.Release != first.ReleaseID || e.Source != "https://github.com/acme/app" || e.Artifacts[0].SHA256 != sum || !strings.HasPrefix(e.Uploader, "token:ci/") {
		t.Fatalf("entry = %+v", e)
	}
	size := treeSize(t, site)
	// Indented differently: the same release.
	again := []byte(strings.ReplaceAll(string(manifest), "  ", "\t"))
	code, second := admit(t, site.url, tok, again)
	if code != http.StatusOK || second.Receipt != first.Receipt || second.ReleaseID != first.ReleaseID || second.LogIndex != first.LogIndex {
		t.Fatalf("second admission: %d %+v, want 200 and the first answer", code, second)
	}
	if got := treeSize(t, site); got != size {
		t.Fatalf("log grew from %d to %d entries on a repeated admission", size, got)
	}
	code, body, _ := do(t, "GET", site.url+"/api/v1/releases/"+first.ReleaseID+"/receipt", tok, nil)
	if code != http.StatusOK || string(body) != first.Receipt {
		t.Fatalf("GET receipt: %d %q", code, body)
	}
	code, body, _ = do(t, "GET", site.url+"/api/v1/releases/"+first.ReleaseID, tok, nil)
	if code != http.StatusOK || !strings.Contains(string(body), first.Manifest) {
		t.Fatalf("GET release: %d %s", code, body)
	}
}

func treeSize(t *testing.T, s *site) uint64 {
	t.Helper()
	code, body, _ := do(t, "GET", s.url+"/log/checkpoint", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /log/checkpoint: %d", code)
	}
	cp, _, _, err := log.ParseCheckpoint(body, s.tl.Origin(), s.tl.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}

// TestAdmitRejections: what the policy does not allow is refused with 422
// naming the check, and the refusal is a release-rejected entry in the log
// whose receipt verifies.
func TestAdmitRejections(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	tamper := func(name string, data []byte) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			// The file changed and the manifest records its new digest, as
			// an attacker who rewrites both would.
			p := filepath.Join(dir, name)
			old, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			m, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
			m = []byte(strings.ReplaceAll(string(m), fmt.Sprintf("%x", sha256.Sum256(old)), fmt.Sprintf("%x", sha256.Sum256(data))))
			m = []byte(strings.ReplaceAll(string(m), fmt.Sprintf(`"size": %d`, len(old)), fmt.Sprintf(`"size": %d`, len(data))))
			if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name           string
		policy         string
		builder        string
		edit           func(t *testing.T, dir string)
		check, subject string
		detail         string // in the problem's detail, when set
	}{
		{name: "tampered artifact", edit: tamper("app.bin", []byte("not what was signed")), check: "digest"},
		{name: "tampered bundle", edit: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "app.bin.sigstore.json"))
			tamper("app.bin.sigstore.json", []byte(strings.Replace(string(b), `"signature":"`, `"signature":"AAAA`, 1)))(t, dir)
		}, check: "signature"},
		{name: "tampered provenance", edit: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "app.bin.intoto.sigstore.json"))
			tamper("app.bin.intoto.sigstore.json", []byte(strings.Replace(string(b), `"payload":"`, `"payload":"eyJ`, 1)))(t, dir)
		}, check: "signature"},
		{name: "builder not allowed", builder: "https://evil.example/builder", check: "builder"},
		{name: "repository not allowed", policy: "sourceRepositories: [git+https://github.com/acme/other]\n", check: "source"},
		{name: "failing test result", policy: "tests: {required: true}\n", edit: func(t *testing.T, dir string) {
			policytest.AddAttestation(t, dir, "manifest.json", s.kp, "app.bin.test-result.sigstore.json", policy.TestResultV01,
				policytest.TestResult("FAILED", "example.com/app/TestRun"))
		}, check: "tests", detail: "the tests FAILED (1 passed, 0 warned, 1 failed; failed: example.com/app/TestRun)"},
		{name: "no test result", policy: "tests: {required: true}\n", check: "tests", detail: "no verified test-result attestation"},
		{name: "uploader without rule", policy: "uploaders: [{name: other, token: someone-else, repositories: [git+https://github.com/acme/app]}]\n", check: "uploader"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			site := startSite(t, s.writePolicy(t, t.TempDir(), tc.policy))
			tok := site.token(t, "ci", token.Upload)
			builder := testBuilder
			if tc.builder != "" {
				builder = tc.builder
			}
			s.release(t, dir, []byte("artifact of "+tc.name), builder, testSource)
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			manifest := uploadAll(t, site.url, tok, dir)
			code, a := admit(t, site.url, tok, manifest)
			if code != http.StatusUnprocessableEntity || a.Check != tc.check || !strings.HasSuffix(a.Type, "check-failed") || a.Detail == "" {
				t.Fatalf("admission: %d %+v; want 422 check %q", code, a, tc.check)
			}
			if !strings.Contains(a.Detail, tc.detail) {
				t.Errorf("the refusal's detail %q does not say %q", a.Detail, tc.detail)
			}
			rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt)
			e, err := entry.Parse(rc.Entry)
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != entry.KindReleaseRejected || e.Check != tc.check {
				t.Fatalf("log entry = %+v, want a rejection of check %q", e, tc.check)
			}
			if code, _, _ := do(t, "GET", site.url+"/api/v1/releases/"+a.ReleaseID, site.token(t, "r", token.Read), nil); code != http.StatusNotFound {
				t.Fatalf("a refused release is readable: %d", code)
			}
		})
	}
}

// TestAdmitRequestErrors: what is refused before verification.
func TestAdmitRequestErrors(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	tok := site.token(t, "ci", token.Upload)
	dir := t.TempDir()
	s.release(t, dir, []byte("never uploaded"), testBuilder, testSource)
	manifest, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	code, a := admit(t, site.url, tok, manifest)
	if code != http.StatusConflict || !strings.Contains(a.Detail, "upload it first") {
		t.Fatalf("missing blob: %d %+v", code, a)
	}
	traversal := strings.ReplaceAll(string(manifest), `"path": "app.bin.sigstore.json"`, `"path": "../app.bin.sigstore.json"`)
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"not json", "{", http.StatusBadRequest},
		{"path traversal", traversal, http.StatusBadRequest},
		{"too large", strings.Repeat(" ", 4<<20+1), http.StatusRequestEntityTooLarge},
	} {
		if code, a := admit(t, site.url, tok, []byte(tc.body)); code != tc.status {
			t.Errorf("%s: %d %+v, want %d", tc.name, code, a, tc.status)
		}
	}
	if code, _, _ := do(t, "POST", site.url+"/api/v1/releases", "", manifest); code != http.StatusUnauthorized {
		t.Errorf("unauthenticated: %d", code)
	}
	if code, _, _ := do(t, "POST", site.url+"/api/v1/releases", site.token(t, "r", token.Read), manifest); code != http.StatusForbidden {
		t.Errorf("wrong scope: %d", code)
	}
}

// TestAdmitConcurrent: 20 admissions at once all get receipts that verify,
// and all are in one final tree.
func TestAdmitConcurrent(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""))
	tok := site.token(t, "ci", token.Upload)
	const n = 20
	manifests := make([][]byte, n)
	for i := range n {
		dir := t.TempDir()
		s.release(t, dir, fmt.Appendf(nil, "artifact %d", i), testBuilder, testSource)
		manifests[i] = uploadAll(t, site.url, tok, dir)
	}
	answers := make([]admission, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			code, a := admit(t, site.url, tok, manifests[i])
			if code != http.StatusCreated {
				t.Errorf("admission %d: %d %+v", i, code, a)
			}
			answers[i] = a
		})
	}
	wg.Wait()
	size := treeSize(t, site)
	if size != n {
		t.Fatalf("log has %d entries, want %d", size, n)
	}
	seen := map[uint64]bool{}
	for i, a := range answers {
		rc := checkReceipt(t, site.tl.VerifierKey(), a.Receipt)
		if seen[rc.Index] {
			t.Fatalf("admission %d: index %d given twice", i, rc.Index)
		}
		seen[rc.Index] = true
		// Against the final checkpoint too: the server's own proof.
		if _, err := site.tl.Receipt(t.Context(), rc.Index, rc.Entry); err != nil {
			t.Fatalf("admission %d against the final tree: %v", i, err)
		}
	}
}

// TestAdmitEmptiesStaging: after admissions that staged files in nested
// directories, and one refused while staging (two digests at one path),
// every staging directory kept for reuse is empty.
func TestAdmitEmptiesStaging(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	staging := t.TempDir()
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""), func(c *server.Config) { c.Staging = staging })
	tok := site.token(t, "ci", token.Upload)

	nested := t.TempDir()
	s.release(t, nested, []byte("artifact with nested evidence"), testBuilder, testSource)
	if err := os.MkdirAll(filepath.Join(nested, "sig", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(nested, "app.bin.sigstore.json"), filepath.Join(nested, "sig", "deep", "app.bin.sigstore.json")); err != nil {
		t.Fatal(err)
	}
	m, _ := os.ReadFile(filepath.Join(nested, "manifest.json"))
	m = []byte(strings.ReplaceAll(string(m), `"app.bin.sigstore.json"`, `"sig/deep/app.bin.sigstore.json"`)) // name and path
	if err := os.WriteFile(filepath.Join(nested, "manifest.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, a := admit(t, site.url, tok, uploadAll(t, site.url, tok, nested)); code != http.StatusCreated {
		t.Fatalf("release with nested paths: %d %+v", code, a)
	}

	collide := t.TempDir()
	s.release(t, collide, []byte("artifact with a colliding path"), testBuilder, testSource)
	m = uploadAll(t, site.url, tok, collide)
	m = []byte(strings.ReplaceAll(string(m), "app.bin.intoto.sigstore.json", "app.bin.sigstore.json")) // the provenance at the signature's path
	if code, a := admit(t, site.url, tok, m); code != http.StatusBadRequest || !strings.Contains(a.Detail, "recorded twice") {
		t.Fatalf("two digests at one path: %d %+v, want 400 naming the path recorded twice", code, a)
	}

	dirs, err := os.ReadDir(staging)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("staging directory %q: %v, %d directories", staging, err, len(dirs))
	}
	for _, d := range dirs {
		left, err := os.ReadDir(filepath.Join(staging, d.Name()))
		if err != nil || len(left) > 0 {
			t.Errorf("staging directory %q kept for reuse holds %v (%v)", d.Name(), left, err)
		}
	}
}
