package servertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/token"
)

// Builder is the builder id the site's policy trusts and Admit's
// provenance names.
const Builder = "https://hpc.example.org/runners/pool"

// Site is a running control plane.
type Site struct {
	// URL is the API's base URL (http://127.0.0.1:PORT).
	URL    string
	dir    string
	kp     *sign.EphemeralKeypair
	tokens *token.Manager
	upload string // a token with the upload scope, for Admit
}

// Start serves a control plane until the test ends; its policy trusts
// one key (the one Admit signs with) and Builder.
func Start(t testing.TB) *Site {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	kp, pub := policytest.NewKeypair(t)
	policytest.WriteFile(t, data, "release.pub", pub)
	pol := policytest.WriteFile(t, data, "policy.yaml", []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\n"+
		"keys: [{name: release, path: release.pub}]\nbuilders: ["+Builder+"]\n"))
	p, err := policy.Load(pol)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.NewFS(filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := tlog.Open(ctx, filepath.Join(data, "log"), tlog.Options{Origin: "test.example/log"})
	if err != nil {
		t.Fatal(err)
	}
	tokens := token.NewManager(db, token.WithParams(token.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}))
	srv, err := server.New(server.Config{Store: db, Blobs: blobs, Auth: tokens, Policy: p, TLog: tl,
		Uploads: filepath.Join(data, "uploads"), Staging: filepath.Join(data, "staging"), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		tl.Close(ctx)
		db.Close()
	})
	s := &Site{URL: "http://" + ln.Addr().String(), dir: data, kp: kp, tokens: tokens}
	s.upload = s.Token(t, "ci", 0, token.Upload, token.Read)
	return s
}

// Token creates a service token named name with scopes, working for ttl
// (0: no expiry), and returns its secret.
func (s *Site) Token(t testing.TB, name string, ttl time.Duration, scopes ...token.Scope) string {
	t.Helper()
	tok, _, err := s.tokens.Create(context.Background(), token.CreateOptions{Name: name, Scopes: scopes, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Admission is what POST /api/v1/releases answered.
type Admission struct {
	ReleaseID      string `json:"releaseId"`
	LogIndex       uint64 `json:"logIndex"`
	ManifestDigest string `json:"manifestDigest"`
	Artifacts      []struct {
		Name, Digest string
	} `json:"artifacts"`
}

// File is a file recorded in a release beside its artifact (an SBOM,
// say), describing it.
type File struct {
	Name      string
	Data      []byte
	MediaType string
	Role      artifact.Role
}

// Admit signs a release of content whose provenance names the source
// repository (git+https://github.com/OWNER/REPO), with extra files
// recorded beside it, uploads its files and has the site admit it.
func (s *Site) Admit(t testing.TB, content []byte, source string, extra ...File) Admission {
	t.Helper()
	dir := t.TempDir()
	policytest.WriteRelease(t, dir, s.kp, content, Builder, source)
	if len(extra) > 0 {
		m, err := artifact.ReadManifest(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range extra {
			policytest.WriteFile(t, dir, f.Name, f.Data)
			m.Add(artifact.Record{Name: f.Name, Path: f.Name, Digest: digest.SHA256(sha256.Sum256(f.Data)), Size: int64(len(f.Data)),
				MediaType: f.MediaType, Role: f.Role, Describes: digest.SHA256(sha256.Sum256(content))})
		}
		if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	code, body := s.submit(t, dir)
	var a Admission
	if err := json.Unmarshal(body, &a); err != nil || code != http.StatusCreated {
		t.Fatalf("admitting a release of %s: %d %s", source, code, body)
	}
	return a
}

// putBlob uploads the file at path in one chunk (OCI chunked upload).
func (s *Site) putBlob(t testing.TB, path string) {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.SHA256(sha256.Sum256(content))
	code, body, hdr := s.do(t, "POST", "/v2/slipway/blobs/uploads/", nil)
	if code != http.StatusAccepted {
		t.Fatalf("starting an upload: %d %s", code, body)
	}
	if code, body, _ = s.do(t, "PUT", hdr.Get("Location")+"?digest="+d.String(), content); code != http.StatusCreated {
		t.Fatalf("uploading %s: %d %s", path, code, body)
	}
}

// do sends one request with the upload token.
func (s *Site) do(t testing.TB, method, path string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.upload)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}
