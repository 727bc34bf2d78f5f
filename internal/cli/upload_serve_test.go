package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/testutil/mariadb"
	s3test "github.com/slipway/actions/internal/testutil/s3"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// startServe runs "slipway serve" in-process on a loopback port with the
// policy file (in dir) on the data directory data, and the extra flags,
// until the test ends; it returns the server's URL once /healthz answers.
func startServe(t *testing.T, dir, data, policyFile string, extra ...string) string {
	t.Helper()
	return startServeWith(t, dir, data, policyFile, nil, extra...)
}

// startServeWith is startServe with environment variables for the server.
func startServeWith(t *testing.T, dir, data, policyFile string, env map[string]string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{
			Args:   append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--policy", policyFile, "--rate-limit", "0"}, flags...),
			Stdout: io.Discard, Stderr: logs, Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return dir, nil },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("slipway serve exited %d:\n%s", code, logs)
		}
	})
	addr := regexp.MustCompile(`"msg":"serving","addr":"([0-9.:]+)"`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := addr.FindStringSubmatch(logs.String()); m != nil {
			url := "http://" + m[1]
			if resp, err := http.Get(url + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return url
				}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("slipway serve exited %d before serving:\n%s", code, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("slipway serve did not serve within 30s:\n%s", logs)
	return ""
}

// createToken creates a service token with scopes in the data directory
// data (or the database the extra flags name) and returns it.
func createToken(t *testing.T, dir, data, scopes string, extra ...string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, dir, nil, append([]string{"token", "create", "--data", data, "--scope", scopes, "--name", "ci"}, extra...)...)
	tok := nameValues(stdout)["token"]
	if code != 0 || tok == "" {
		t.Fatalf("token create: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return tok
}

// blobStore is a blob store slipway serve runs on in a test: its flags and
// environment, and whether it holds a blob.
type blobStore struct {
	name  string
	start func(t *testing.T, data string) (env map[string]string, flags []string, holds func(digest.SHA256) error)
}

var blobStores = []blobStore{
	{"fs", func(t *testing.T, data string) (map[string]string, []string, func(digest.SHA256) error) {
		return nil, nil, func(d digest.SHA256) error {
			fi, err := os.Stat(filepath.Join(data, "blobs", "sha256", d.Hex()))
			if err == nil && fi.Mode().Perm() != 0o444 {
				err = fmt.Errorf("mode %v, want read-only 0444", fi.Mode().Perm())
			}
			return err
		}
	}},
	{"s3", func(t *testing.T, data string) (map[string]string, []string, func(digest.SHA256) error) {
		b := s3test.New(t, s3test.WithObjectLock())
		env := map[string]string{}
		for _, kv := range b.Env() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		// Governance, so that the test's cleanup can remove the bucket.
		flags := []string{"--blobs", b.URL(), "--require-object-lock", "--retention-mode", "governance", "--retention", "1d"}
		return env, flags, func(d digest.SHA256) error {
			if _, err := os.Stat(filepath.Join(data, "blobs", "sha256", d.Hex())); err == nil {
				return fmt.Errorf("the blob is in the data directory too")
			}
			h, err := b.Client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String("sha256/" + d.Hex())})
			if err == nil && h.ObjectLockMode != s3types.ObjectLockModeGovernance {
				err = fmt.Errorf("object lock mode %q, want GOVERNANCE", h.ObjectLockMode)
			}
			return err
		}
	}},
}

// serveDatabases are the databases a control plane under test keeps its
// metadata in: flags for slipway serve and slipway token (none: the
// embedded SQLite in the data directory).
var serveDatabases = []struct {
	name  string
	flags func(testing.TB) []string
}{
	{"sqlite", func(testing.TB) []string { return nil }},
	{"mariadb", mariadb.ServeFlags},
}

// TestUploadToServe is the chain end to end on real parts, each blob store
// and each database once (the embedded defaults, fs and SQLite; then S3
// and MariaDB): a release made by the real stages (build, sbom, sign and
// attest with a cosign key), uploaded with a service token to a real
// slipway serve (database, blob store, tessera log), whose blobs are then in
// the store (read-only files, or locked objects in a bucket) and readable
// by range; slipway verify checks the receipt offline with receipts
// required; the same upload again is the same release; a release signed
// by a key the server's policy does not trust is refused with the failed
// check, exit 1.
func TestUploadToServe(t *testing.T) {
	t.Parallel()
	for i, bs := range blobStores {
		db := serveDatabases[i%len(serveDatabases)]
		t.Run(bs.name+"-"+db.name, func(t *testing.T) {
			t.Parallel()
			testUploadToServe(t, bs, db.flags(t))
		})
	}
}

func testUploadToServe(t *testing.T, bs blobStore, dbFlags []string) {
	dir := t.TempDir()
	env := release(t, dir, "")
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "server-policy.yaml"), string(policy))
	data := t.TempDir()
	tok := createToken(t, dir, data, "upload,read", dbFlags...)
	serveEnv, flags, holds := bs.start(t, data)
	url := startServeWith(t, dir, data, "server-policy.yaml", serveEnv, append(flags, dbFlags...)...)

	// A token the server does not know: 401 with the server's reason, exit 2.
	env["SLIPWAY_TOKEN"] = "slw_unknown_0123456789"
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	if code != 2 || !strings.Contains(stderr, "401") || strings.Contains(stdout+stderr, "slw_unknown_0123456789") {
		t.Fatalf("upload with an unknown token: exit %d, want 2 with 401, the token unprinted\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("unknown token: %s", stderr)

	env["SLIPWAY_TOKEN"] = tok
	code, stdout, stderr = runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	out := nameValues(stdout)
	if code != 0 || !strings.HasPrefix(out["release-id"], "r-") || out["log-index"] == "" || out["receipt"] != "dist/"+out["release-id"]+".receipt" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, tok) {
		t.Error("the upload printed the token")
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range m.Records {
		if rec.Path == "" || rec.Role == artifact.RoleReceipt {
			continue
		}
		if err := holds(rec.Digest); err != nil {
			t.Errorf("blob of %q in the %s store: %v", rec.Name, bs.name, err)
		}
	}
	a := m.ByRole(artifact.RoleArtifact)[0]
	content, err := os.ReadFile(filepath.Join(dir, a.Path))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/artifacts/"+a.Digest.String(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Range", "bytes=1-3")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, content[1:4]) {
			t.Errorf("GET the artifact, Range bytes=1-3: %d %q, want 206 %q", resp.StatusCode, got, content[1:4])
		}
	}

	resp, err := http.Get(url + "/api/v1/log/key")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	writeFile(t, filepath.Join(dir, "log.pub"), strings.TrimSpace(string(key))+"\n")
	writeFile(t, filepath.Join(dir, "policy.yaml"), string(policy)+"log:\n  verifierKey: log.pub\n  receipts: required\n")
	code, vout, verr := runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "policy.yaml")
	for _, name := range []string{"src/a.bin", "src/old.bin"} {
		if !strings.Contains(vout, `admitted "`+name+`"`) {
			t.Errorf("verify does not report the receipt of %s", name)
		}
	}
	if code != 0 {
		t.Fatalf("verify with receipts required: exit %d\n%s\n%s", code, vout, verr)
	}

	// The same manifest again (now with its receipts): the same release.
	code, stdout2, stderr := runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	if out2 := nameValues(stdout2); code != 0 || out2["release-id"] != out["release-id"] || out2["log-index"] != out["log-index"] {
		t.Fatalf("second upload: exit %d, outputs %v, want %v\n%s", code, out2, out, stderr)
	}
	resp, err = http.Get(url + "/api/v1/releases/" + out["release-id"])
	if err == nil {
		var rel struct {
			ID string `json:"releaseId"`
		}
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/releases/"+out["release-id"], nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp.Body.Close()
		if resp, err = http.DefaultClient.Do(req); err == nil {
			json.NewDecoder(resp.Body).Decode(&rel)
			resp.Body.Close()
		}
		if rel.ID != out["release-id"] {
			t.Errorf("GET /api/v1/releases/%s answered %q", out["release-id"], rel.ID)
		}
	}

	// A release signed by another key: refused, and nothing recorded.
	other := t.TempDir()
	otherEnv := release(t, other, "")
	otherEnv["SLIPWAY_TOKEN"] = tok
	before, _ := os.ReadFile(filepath.Join(other, "dist", "manifest.json"))
	code, stdout, stderr = runCLI(t, other, otherEnv, "upload", "--server", url, "--manifest", "dist/manifest.json")
	if code != 1 || !strings.Contains(stderr, "422") || !strings.Contains(stderr, "check ") {
		t.Fatalf("upload of an untrusted release: exit %d, want 1 with the failed check\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("refused: %s", stderr)
	after, _ := os.ReadFile(filepath.Join(other, "dist", "manifest.json"))
	if !bytes.Equal(before, after) {
		t.Error("a refused upload changed the manifest")
	}
}

// cutProxy forwards requests to target; the first PATCH gets through only
// its first keep bytes, then both its connections drop, the client's
// without an answer: a connection cut mid-chunk.
func cutProxy(t *testing.T, target string, keep int64) *httptest.Server {
	t.Helper()
	var cut sync.Once
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		out.Header = r.Header.Clone()
		out.ContentLength = r.ContentLength
		cutting := false
		if r.Method == http.MethodPatch {
			cut.Do(func() {
				cutting = true
				out.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, keep), errReader{}))
			})
		}
		resp, err := http.DefaultTransport.RoundTrip(out)
		if cutting || err != nil {
			if resp != nil {
				resp.Body.Close()
			}
			conn, _, herr := w.(http.Hijacker).Hijack()
			if herr == nil {
				conn.Close()
			}
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return proxy
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection cut by the test") }

// TestUploadResumesOnServe cuts the connection in the middle of a chunk
// between slipway upload and a real slipway serve: the client asks the
// upload location how much arrived and sends the rest, and the server
// stores the file whole (its digest checked). The release itself is
// refused (it is not signed), exit 1.
func TestUploadResumesOnServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := make([]byte, 300_000)
	rand.Read(big)
	writeFile(t, filepath.Join(dir, "big.bin"), string(big))
	if code, stdout, stderr := runCLI(t, dir, map[string]string{"PATH": os.Getenv("PATH")}, "build", "--artifacts", "big.bin"); code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, stdout, stderr)
	}
	key := sigstoretest.NewCosignKey(t, "pw")
	writeFile(t, filepath.Join(dir, "cosign.pub"), string(key.PublicPEM))
	writeFile(t, filepath.Join(dir, "server-policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n")
	data := t.TempDir()
	tok := createToken(t, dir, data, "upload,read")
	url := startServe(t, dir, data, "server-policy.yaml")
	proxy := cutProxy(t, url, 100_000)

	code, stdout, stderr := runCLI(t, dir, map[string]string{"SLIPWAY_TOKEN": tok}, "upload", "--server", proxy.URL, "--manifest", "dist/manifest.json")
	if code != 1 || !strings.Contains(stderr, "upload interrupted, resuming") || !strings.Contains(stderr, "resumed=1") || !strings.Contains(stderr, "422") {
		t.Fatalf("upload through a cut connection: exit %d, want 1 (refused: unsigned) after one resume\n%s\n%s", code, stdout, stderr)
	}
	sum := sha256.Sum256(big)
	req, _ := http.NewRequest(http.MethodGet, url+"/v2/slipway/blobs/sha256:"+hex.EncodeToString(sum[:]), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, big) {
		t.Fatalf("the server holds %d bytes (status %d) for big.bin, want the file's %d", len(got), resp.StatusCode, len(big))
	}
}

// TestPipelineUploads runs the pipeline with a server: after signing,
// attesting and verifying, it uploads the release to a real slipway serve
// and records the receipt; without credentials it stops before building.
func TestPipelineUploads(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	dir := t.TempDir()
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: " + key.PublicPath + "\nallowedPredicateTypes:\n  - https://slsa.dev/provenance/v1\n  - https://cyclonedx.org/bom\n"
	writeFile(t, filepath.Join(dir, "policy.yaml"), policy)
	data := t.TempDir()
	tok := createToken(t, dir, data, "upload")
	url := startServe(t, dir, data, "policy.yaml")
	args := []string{"pipeline", "--command", "mkdir -p dist && echo app > dist/app && touch built",
		"--artifacts", "dist/app", "--tlog=false", "--key", key.PrivatePath, "--policy", "policy.yaml", "--server", url}

	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "pw"}
	code, _, stderr := runCLI(t, dir, env, args...)
	if code != 2 || !strings.Contains(stderr, "slipway upload: no credentials for the control plane") {
		t.Fatalf("pipeline without credentials: exit %d, want 2 before building\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
		t.Fatal("the pipeline built before finding it has no credentials for the upload")
	}

	env["SLIPWAY_TOKEN"] = tok
	code, stdout, stderr := runCLI(t, dir, env, args...)
	if code != 0 {
		t.Fatalf("pipeline: exit %d\n%s\n%s", code, stdout, stderr)
	}
	outs := parseOutputs(t, stdout)
	if !strings.HasPrefix(outs["release-id"], "r-") || outs["log-index"] == "" || outs["receipt"] == "" {
		t.Fatalf("outputs %v: want release-id, log-index and receipt", outs)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, outs["manifest"]))
	if err != nil {
		t.Fatal(err)
	}
	if recs := m.ByRole(artifact.RoleReceipt); len(recs) != 1 || recs[0].Name != "dist/app.receipt" {
		t.Errorf("receipt records %+v, want dist/app.receipt", recs)
	}
	if _, err := os.Stat(filepath.Join(dir, outs["receipt"])); err != nil {
		t.Errorf("receipt output: %v", err)
	}
}

// slipway serve refuses to start on blob store settings it cannot keep:
// a bucket without Object Lock under --require-object-lock, a bucket that
// does not exist, flags that go together given alone, a URL with
// credentials in it (not echoed).
func TestServeBlobsRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cosign.pub"), string(sigstoretest.NewCosignKey(t, "pw").PublicPEM))
	writeFile(t, filepath.Join(dir, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n")
	unlocked := s3test.New(t)
	env := map[string]string{}
	for _, kv := range unlocked.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	missing := unlocked
	missing.Name += "-missing"
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"no object lock", []string{"--blobs", unlocked.URL(), "--require-object-lock"},
			[]string{fmt.Sprintf("bucket %q has no Object Lock", unlocked.Name), "--object-lock-enabled-for-bucket", "drop --require-object-lock"}},
		{"retention on a bucket without object lock", []string{"--blobs", unlocked.URL(), "--retention-mode", "compliance", "--retention", "7y"},
			[]string{fmt.Sprintf("bucket %q has no Object Lock", unlocked.Name)}},
		{"no such bucket", []string{"--blobs", missing.URL()}, []string{fmt.Sprintf("bucket %q does not exist", missing.Name)}},
		{"retention mode alone", []string{"--blobs", unlocked.URL(), "--retention-mode", "governance"}, []string{`"retention-mode" and "retention" go together`}},
		{"bad retention", []string{"--blobs", unlocked.URL(), "--retention-mode", "governance", "--retention", "7w"}, []string{`input "retention"`, "like 7y or 90d"}},
		{"lock without a bucket", []string{"--require-object-lock"}, []string{"apply to an S3 blob store"}},
		{"credentials in the URL", []string{"--blobs", "s3://AKIDEXAMPLE:hunter2@" + unlocked.Name}, []string{"holds credentials"}},
		{"not s3", []string{"--blobs", "/srv/blobs"}, []string{"not an s3:// URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--policy", "policy.yaml"}, tt.flags...)
			code, stdout, stderr := runCLI(t, dir, env, args...)
			if code == 0 {
				t.Fatalf("serve %v: exit 0, want a refusal\n%s", tt.flags, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("serve %v: exit %d, stderr does not say %q:\n%s", tt.flags, code, w, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "hunter2") || strings.Contains(stdout+stderr, unlocked.SecretKey) {
				t.Errorf("serve printed a secret:\n%s%s", stdout, stderr)
			}
		})
	}
}
