package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/testutil/registry"
)

// fastBackoff keeps retries in tests short; the attempts are the same.
var fastBackoff = remote.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}

// noDockerConfig is a keychain with nothing in it, so that tests never read
// the Docker config of the machine they run on.
type noDockerConfig struct{}

func (noDockerConfig) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}

// opts returns options that push to the registry at addr, repository repo,
// tag tag, with files in dir.
func opts(t testing.TB, dir, ref string, files ...string) Options {
	t.Helper()
	return Options{
		Ref:         ref,
		Subject:     Subject{Files: files},
		Dir:         dir,
		Backoff:     fastBackoff,
		Credentials: Credentials{Keychain: noDockerConfig{}, KeychainName: "no keychain (test)"},
		Log:         slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// writeFile writes content to dir/name and returns its path.
func writeFile(t testing.TB, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// startRegistry starts a real registry for t.
func startRegistry(t testing.TB) string {
	t.Helper()
	return registry.Start(t)
}

// getManifest fetches ref's manifest from the registry.
func getManifest(t testing.TB, ref string) (*remote.Descriptor, *v1.Manifest) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r, remote.WithContext(context.Background()))
	if err != nil {
		t.Fatalf("remote.Get(%s): %v", ref, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatalf("parsing manifest of %s: %v", ref, err)
	}
	return desc, &m
}
