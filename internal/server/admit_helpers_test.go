package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/server"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/token"
)

const (
	testBuilder = "https://hpc.example.org/runners/pool"
	testSource  = "git+https://github.com/acme/app"
)

// site is an in-process slipway serve on a real loopback listener, on the
// embedded defaults in a temporary data directory.
type site struct {
	srv    *server.Server
	url    string
	tl     *tlog.Log
	tokens *token.Manager
}

// startSite serves the trust policy file pol; opts adjust the server's
// configuration (OIDC, say).
func startSite(t testing.TB, pol string, opts ...func(*server.Config)) *site {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
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
	cfg := server.Config{Store: db, Blobs: blobs, Auth: tokens, Policy: p, TLog: tl,
		Uploads: filepath.Join(data, "uploads"), Staging: filepath.Join(data, "staging"), Log: slog.New(slog.DiscardHandler),
		// Every site serves the whole route table; the Slurm tests give a real cluster's workdir.
		Slurm: &server.SlurmConfig{Backend: slurmcli.New(slurmcli.Options{}), WorkDir: filepath.Join(data, "jobs"), Partition: "debug", Slipway: "/usr/bin/slipway"}}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	setRouteTable(srv.Routes()) // every site has the whole route table
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
	return &site{srv: srv, url: "http://" + ln.Addr().String(), tl: tl, tokens: tokens}
}

func (s *site) token(t testing.TB, name string, scopes ...token.Scope) string {
	t.Helper()
	tok, _, err := s.tokens.Create(context.Background(), token.CreateOptions{Name: name, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends one request and returns the status and body, after checking
// the answer against the OpenAPI document (checkAnswer).
func do(t testing.TB, method, url, tok string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	return doH(t, method, url, tok, body, nil)
}

// testClient keeps connections for the tests' requests: with
// http.DefaultClient's 2 idle connections per host, BenchmarkAdmit's
// thousands of uploads from 4 goroutines connected again for most requests
// and ran out of loopback ports (TIME_WAIT).
var testClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// doH is do with request headers.
func doH(t testing.TB, method, url, tok string, body []byte, h http.Header) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkAnswer(t, req, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, b, resp.Header
}

// putBlob uploads the file at path in one chunk, as its own minimal OCI
// client.
func putBlob(t testing.TB, url, tok, path string) {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.SHA256(sha256.Sum256(content))
	code, body, hdr := do(t, "POST", url+"/v2/slipway/blobs/uploads/", tok, nil)
	if code != http.StatusAccepted {
		t.Fatalf("POST upload: %d %s", code, body)
	}
	if code, body, _ = do(t, "PUT", url+hdr.Get("Location")+"?digest="+d.String(), tok, content); code != http.StatusCreated {
		t.Fatalf("PUT %s: %d %s", path, code, body)
	}
}

// uploadAll uploads every file the manifest in dir records.
func uploadAll(t testing.TB, url, tok, dir string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, r := range m.Records {
		if r.Path != "" && !done[r.Path] {
			done[r.Path] = true
			putBlob(t, url, tok, filepath.Join(dir, filepath.FromSlash(r.Path)))
		}
	}
	return raw
}

// signer makes key-signed releases in-process (what sign and attest do,
// without the CLI): an artifact, its signature bundle and its SLSA
// provenance bundle.
type signer struct {
	kp  *sign.EphemeralKeypair
	pub []byte
}

func newSigner(t testing.TB) *signer {
	kp, pub := policytest.NewKeypair(t)
	return &signer{kp: kp, pub: pub}
}

// release writes dir/app.bin (content), its bundles and dir/manifest.json.
func (s *signer) release(t testing.TB, dir string, content []byte, builder, source string) {
	t.Helper()
	policytest.WriteRelease(t, dir, s.kp, content, builder, source)
}

// writePolicy writes a policy trusting s's key and the builder, with extra
// YAML lines, and returns its path.
func (s *signer) writePolicy(t testing.TB, dir, extra string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "release.pub"), s.pub, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "policy.yaml")
	doc := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: [" + testBuilder + "]\n" + extra
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// admission is the JSON of 201/200 and of a 422 problem.
type admission struct {
	ReleaseID string `json:"releaseId"`
	LogIndex  uint64 `json:"logIndex"`
	Receipt   string `json:"receipt"`
	Manifest  string `json:"manifestDigest"`
	Artifacts []struct {
		Name, Digest string
	} `json:"artifacts"`
	Checks []string `json:"checks"`
	// problem fields
	Type, Title, Detail, Check, Subject string
}

func admit(t testing.TB, url, tok string, manifest []byte) (int, admission) {
	t.Helper()
	code, body, _ := do(t, "POST", url+"/api/v1/releases", tok, manifest)
	var a admission
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("POST /api/v1/releases: %d %s: %v", code, body, err)
	}
	return code, a
}

// checkReceipt verifies a receipt offline with the log's key and returns
// its entry.
func checkReceipt(t testing.TB, key, text string) *receipt.Receipt {
	t.Helper()
	v, err := receipt.NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := receipt.Parse([]byte(text))
	if err != nil {
		t.Fatalf("receipt: %v\n%s", err, text)
	}
	if err := receipt.Verify(rc, nil, v); err != nil {
		t.Fatalf("receipt does not verify offline: %v", err)
	}
	return rc
}
