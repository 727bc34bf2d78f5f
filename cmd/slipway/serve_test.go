package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// runSlipway runs the binary to its end in dir.
func runSlipway(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// newToken runs "slipway token create" (with the extra flags) and returns the token.
func newToken(t *testing.T, dir, name, scope string, extra ...string) string {
	t.Helper()
	code, out, errOut := runSlipway(t, dir, append([]string{"token", "create", "--data", "data", "--scope", scope, "--name", name}, extra...)...)
	m := regexp.MustCompile(`(?m)^token=(slw_\S+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("token create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	return m[1]
}

// servePolicy writes a minimal trust policy into dir.
func servePolicy(t *testing.T, dir string) {
	t.Helper()
	key := sigstoretest.NewCosignKey(t, "pw")
	write(t, dir, "cosign.pub", string(key.PublicPEM))
	write(t, dir, "policy.yaml", "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n")
}

// server is a running "slipway serve".
type server struct {
	cmd    *exec.Cmd
	stderr *logbuf.Buffer
	url    string
	done   chan struct{}
}

func startServe(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startServeEnv(t, dir, nil, args...)
}

// startServeEnv is startServe with environment variables (KEY=VALUE) for
// the server besides HOME, such as credentials, which never go in args.
func startServeEnv(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	s := &server{stderr: &logbuf.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binary(t), append([]string{"serve", "--data", "data", "--listen", "127.0.0.1:0", "--policy", "policy.yaml"}, args...)...)
	s.cmd.Dir, s.cmd.Env, s.cmd.Stderr = dir, append([]string{"HOME=" + dir}, env...), s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	addr := regexp.MustCompile(`"msg":"serving","addr":"([^"]+)"`)
	for deadline := time.Now().Add(guard); ; time.Sleep(10 * time.Millisecond) {
		if m := addr.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = "http://" + m[1]
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("slipway serve ended before serving: %s", s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slipway serve not serving after %s: %s", guard, s.stderr.String())
		}
	}
}

func (s *server) get(t *testing.T, path, tok string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// The real binary: tokens made with "slipway token", used, refused,
// revoked while it runs, rate-limited; SIGTERM ends it with exit 0; its
// log never holds a token.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	servePolicy(t, dir)
	reader := newToken(t, dir, "reader", "read")
	uploader := newToken(t, dir, "uploader", "upload")
	burst := newToken(t, dir, "burst", "read")
	mirror := newToken(t, dir, "mirror", "read")
	s := startServe(t, dir, "--rate-limit", "0.01", "--rate-burst", "2")

	if code, _, body := s.get(t, "/healthz", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("GET /healthz: %d %s", code, body)
	}
	if code, _, _ := s.get(t, "/readyz", ""); code != 200 {
		t.Fatalf("GET /readyz: %d", code)
	}
	// A daemon takes internal/startheap's advice back (startheap.Undo).
	if smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", s.cmd.Process.Pid)); err == nil {
		for _, line := range strings.Split(string(smaps), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "VmFlags:" && slices.Contains(f, "hg") {
				t.Errorf("slipway serve still has memory advised for huge pages: %q", line)
			}
		}
	}
	artifact := "/api/v1/artifacts/sha256:" + strings.Repeat("0", 64)
	code, h, body := s.get(t, artifact, "")
	if code != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || h.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no token: %d %v %s", code, h, body)
	}
	if code, h, _ := s.get(t, artifact, uploader); code != 403 || !strings.Contains(h.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("upload token on a read endpoint: %d, want 403", code)
	}
	if code, _, body := s.get(t, artifact, reader); code != 404 || !strings.Contains(body, "no admitted release") {
		t.Errorf("read token: %d %s, want 404 (authorized, no such artifact)", code, body)
	}
	for i := range 2 {
		if code, _, _ := s.get(t, artifact, burst); code != 404 {
			t.Fatalf("request %d within the burst: %d", i, code)
		}
	}
	if code, h, _ := s.get(t, artifact, burst); code != 429 || h.Get("Retry-After") == "" {
		t.Errorf("over the rate limit: %d, Retry-After %q", code, h.Get("Retry-After"))
	}

	id := reader[len("slw_") : len("slw_")+16]
	if code, _, errOut := runSlipway(t, dir, "token", "revoke", "--data", "data", id); code != 0 {
		t.Fatalf("token revoke beside the running server: exit %d %s", code, errOut)
	}
	if code, _, body := s.get(t, artifact, reader); code != 401 || !strings.Contains(body, "revoked") {
		t.Errorf("revoked token: %d %s, want 401", code, body)
	}

	// An artifact large enough to still be in flight when SIGTERM comes:
	// the client reads a little, the server is told to stop, and the whole
	// artifact still arrives.
	ctx := context.Background()
	blobs, err := blobstore.NewFS(filepath.Join(dir, "data", "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	big, err := blobs.Put(ctx, io.LimitReader(rand.NewChaCha8([32]byte{1}), 64<<20), digest.SHA256{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "data", "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	err = db.CreateRelease(ctx, store.Release{ID: "r1", SourceRepository: "github.com/o/r", Uploader: "test", ManifestDigest: "sha256:01",
		Created: time.Now(), Artifacts: []store.Artifact{{Digest: big.Digest.String(), Size: big.Size, Name: "big.bin"}}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/api/v1/artifacts/"+big.Digest.String(), nil)
	req.Header.Set("Authorization", "Bearer "+mirror)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET the big artifact: %v %v", err, resp)
	}
	defer resp.Body.Close()
	got := digest.NewReader(resp.Body)
	if _, err := io.CopyN(io.Discard, got, 1<<20); err != nil {
		t.Fatal(err)
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	for deadline := time.Now().Add(guard); !strings.Contains(s.stderr.String(), `"msg":"shutting down"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after SIGTERM: %s", s.stderr.String())
		}
	}
	if _, err := io.Copy(io.Discard, got); err != nil || got.Digest() != big.Digest {
		t.Errorf("the in-flight download: %v, %d bytes, digest %s, want %s", err, got.Size(), got.Digest(), big.Digest)
	}
	select {
	case <-s.done:
	case <-time.After(guard):
		t.Fatalf("slipway serve still running %s after SIGTERM", guard)
	}
	logs := s.stderr.String()
	if code := s.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Errorf("after SIGTERM: exit %d, log:\n%s", code, logs)
	}
	for _, tok := range []string{reader, uploader, burst} {
		if strings.Contains(logs, tok[len(tok)-52:]) {
			t.Errorf("the log holds a token's secret:\n%s", logs)
		}
	}
	if !strings.Contains(logs, `"identity":"token:reader/`+id+`"`) {
		t.Errorf("the log does not name the identity:\n%s", logs)
	}
}

// A database migrated by a newer slipway is refused before serving.
func TestServeNewerSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	servePolicy(t, dir)
	newToken(t, dir, "any", "read") // creates and migrates data/db.sqlite
	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, _, errOut := runSlipway(t, dir, "serve", "--data", "data", "--listen", "127.0.0.1:0", "--policy", "policy.yaml")
	if code != 2 || !strings.Contains(errOut, "schema version 9999, newer than the") {
		t.Errorf("exit %d, stderr %q; want 2 and the schema named", code, errOut)
	}
}

func TestServeBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	servePolicy(t, dir)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no policy", []string{"serve", "--data", "data"}, `"policy"`},
		{"missing policy", []string{"serve", "--data", "data", "--policy", "nope.yaml"}, "nope.yaml"},
		{"cert without key", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--tls-cert", "c.pem"}, `"tls-cert" and "tls-key" go together`},
		{"relative public url", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--public-url", "example.org"}, "not an absolute http(s) URL"},
		{"bad rate", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--rate-limit", "fast"}, `"rate-limit"`},
		{"long shutdown", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--shutdown-timeout", "1m"}, "under 15s"},
		{"oidc audience without an oidc rule", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--oidc-audience", "https://slipway.example.org"}, "name no OIDC issuer"},
		{"port taken", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--listen", "256.0.0.1:1"}, "give --listen a free host:port"},
		{"unreachable database", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--database", "mysql://slipway@127.0.0.1:1/meta"}, `connecting to database "meta" on 127.0.0.1:1 as "slipway"`},
		{"database password in the arguments", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--database", "mysql://slipway:pw@127.0.0.1:1/meta"}, "holds a password on the command line"},
		{"log bucket alone", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--log-bucket", "s3://slipway-log"}, "give --database mysql://… and --blobs s3://… too"},
		{"log bucket without a key", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--database", "mysql://slipway@127.0.0.1:1/meta", "--blobs", "s3://slipway-blobs", "--log-bucket", "s3://slipway-log"}, "slipway log-key --log-key FILE"},
		{"log in the blob bucket", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--database", "mysql://slipway@127.0.0.1:1/meta", "--blobs", "s3://slipway-blobs", "--log-bucket", "s3://slipway-blobs", "--log-key", "log.key"}, "give the log its own bucket"},
		{"bad log bucket", []string{"serve", "--data", "data", "--policy", "policy.yaml", "--database", "mysql://slipway@127.0.0.1:1/meta", "--blobs", "s3://slipway-blobs", "--log-bucket", "s3://Bad_Name", "--log-key", "log.key"}, `input "log-bucket"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runSlipway(t, dir, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// --tls-cert and --tls-key: HTTPS with the given certificate.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	servePolicy(t, dir)
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	write(t, dir, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	s := startServe(t, dir, "--tls-cert", "cert.pem", "--tls-key", "key.pem")
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(strings.Replace(s.url, "http://", "https://", 1) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.Contains(s.stderr.String(), `"scheme":"https"`) {
		t.Errorf("GET https /healthz: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if code, _, errOut := runSlipway(t, dir, "serve", "--data", "data", "--policy", "policy.yaml", "--tls-cert", "key.pem", "--tls-key", "cert.pem"); code != 2 || !strings.Contains(errOut, "give a PEM certificate and its own private key") {
		t.Errorf("swapped cert and key: exit %d, %q", code, errOut)
	}
}

// The real binary with --oidc-audience: a GitHub Actions ID token of the
// issuer the policy's uploader rule names (a local issuer serving a real
// discovery document and JWKS) is accepted on a read endpoint; one for
// another audience is a 401 naming the check; a service token still works;
// the log names the job and never holds a token.
func TestServeOIDC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	servePolicy(t, dir)
	iss := sigstoretest.StartOIDCIssuer(t, "")
	const aud = "https://slipway.example.org"
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "policy.yaml", string(policy)+`uploaders:
  - name: release
    oidc:
      issuer: `+iss.URL+`
      repositoryID: "123456"
    repositories: ["git+https://github.com/octo/app"]
`)
	reader := newToken(t, dir, "reader", "read")
	s := startServe(t, dir, "--oidc-audience", aud)
	sign := func(audience string) string {
		c := sigstoretest.GitHubClaims("octo/app", ".github/workflows/release.yml")
		c["aud"], c["jti"] = audience, "jti-"+audience
		tok, err := iss.Token(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good, wrong := sign(aud), sign("https://other.example.org")
	artifact := "/api/v1/artifacts/sha256:" + strings.Repeat("0", 64)
	if code, _, body := s.get(t, artifact, good); code != 404 || !strings.Contains(body, "no admitted release") {
		t.Errorf("OIDC token: %d %s, want 404 (authorized, no such artifact)", code, body)
	}
	if code, h, body := s.get(t, artifact, wrong); code != 401 || !strings.Contains(body, `"check":"aud"`) || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("OIDC token for another audience: %d %v %s, want 401 naming check aud", code, h, body)
	}
	if code, _, _ := s.get(t, artifact, reader); code != 404 {
		t.Errorf("service token: %d, want 404", code)
	}
	logs := s.stderr.String()
	for _, tok := range []string{good, wrong, reader} {
		if strings.Contains(logs, tok[len(tok)-40:]) {
			t.Errorf("the log holds a token:\n%s", logs)
		}
	}
	for _, want := range []string{`"msg":"accepting OIDC ID tokens"`, `"identity":"oidc:octo/app:octo/app/.github/workflows/release.yml@refs/heads/main"`, `"repository_id":"123456"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}
