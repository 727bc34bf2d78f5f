package testrun

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// signer is one cosign-key signer for the package (a key takes a second
// of scrypt to make; a Signer is safe for concurrent use).
var signer struct {
	once sync.Once
	s    *signing.Signer
}

func testSigner(t testing.TB) *signing.Signer {
	t.Helper()
	signer.once.Do(func() {
		key := sigstoretest.NewCosignKey(t, "pw")
		s, err := signing.New(context.Background(), signing.Options{Key: key.PrivatePath, Password: []byte(key.Password)})
		if err == nil {
			signer.s = s
		}
	})
	if signer.s == nil {
		t.Fatal("no test signer")
	}
	return signer.s
}

// workspace is a build's output: two artifacts and the manifest.
type workspace struct {
	dir      string
	app, lib artifact.Record
}

const commit = "4f2c1e9a7b3d5c8e0f1a2b3c4d5e6f708192a3b4"

func newWorkspace(t *testing.T) *workspace { return benchWorkspace(t) }

// benchWorkspace is newWorkspace for tests and benchmarks.
func benchWorkspace(t testing.TB) *workspace {
	t.Helper()
	w := &workspace{dir: t.TempDir()}
	m := artifact.NewManifest()
	m.Build = &artifact.BuildInfo{Command: "make", Repository: "git+https://github.com/slipway-demo/hello", Ref: "refs/heads/main",
		Commit: commit, StartedOn: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC), FinishedOn: time.Date(2026, 12, 5, 9, 1, 0, 0, time.UTC)}
	add := func(name, content string) artifact.Record {
		p := w.file(t, name, content)
		d, n, err := digest.File(p)
		if err != nil {
			t.Fatal(err)
		}
		r := artifact.Record{Name: name, Path: name, Digest: d, Size: n, MediaType: "application/octet-stream", Role: artifact.RoleArtifact}
		m.Add(r)
		return r
	}
	w.app, w.lib = add("dist/app", "the app\n"), add("dist/lib.so", "a library\n")
	if err := m.WriteFile(filepath.Join(w.dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	return w
}

// file writes content at the workspace-relative name and returns its path.
func (w *workspace) file(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(w.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *workspace) options(t *testing.T) Options {
	return Options{Workspace: w.dir, Manifest: "dist/manifest.json", Signer: testSigner(t), Getenv: env(nil)}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// statement is the test-result statement a bundle holds.
type statement struct {
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
	Predicate     struct {
		Result        string `json:"result"`
		Configuration []struct {
			Name        string            `json:"name"`
			URI         string            `json:"uri"`
			Digest      map[string]string `json:"digest"`
			Content     string            `json:"content"`
			Annotations map[string]any    `json:"annotations"`
		} `json:"configuration"`
		URL          string   `json:"url"`
		PassedTests  []string `json:"passedTests"`
		WarnedTests  []string `json:"warnedTests"`
		FailedTests  []string `json:"failedTests"`
		SkippedTests []string `json:"slipwaySkippedTests"`
	} `json:"predicate"`
}

// readStatement reads the statement in the bundle at the workspace-relative
// path (its signature is attest's to check; its tests do).
func (w *workspace) readStatement(t *testing.T, rel string) statement {
	t.Helper()
	b, err := bundle.LoadJSONFromPath(filepath.Join(w.dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	env, err := b.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.RawEnvelope().Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("%v\n%s", err, payload)
	}
	return st
}
