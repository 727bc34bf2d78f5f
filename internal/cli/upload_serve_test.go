package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer written by a running server and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs "slipway serve" in-process on a loopback port with the
// policy file (in dir) on the data directory data, until the test ends;
// it returns the server's URL once /healthz answers.
func startServe(t *testing.T, dir, data, policyFile string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{
			Args:   []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--policy", policyFile, "--rate-limit", "0"},
			Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }, Getwd: func() (string, error) { return dir, nil },
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

// TestUploadToServe is the chain end to end on real parts: a release made
// by the real stages (build, sbom, sign and attest with a cosign key),
// uploaded with a service token to a real slipway serve (SQLite, blob store,
// tessera log), whose receipt slipway verify then checks offline with
// receipts required; the same upload again is the same release; a release
// signed by a key the server's policy does not trust is refused with the
// failed check, exit 1.
func TestUploadToServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := release(t, dir, "")
	policy, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "server-policy.yaml"), string(policy))
	data := t.TempDir()
	code, stdout, stderr := runCLI(t, dir, nil, "token", "create", "--data", data, "--scope", "upload,read", "--name", "ci")
	tok := nameValues(stdout)["token"]
	if code != 0 || tok == "" {
		t.Fatalf("token create: exit %d\n%s\n%s", code, stdout, stderr)
	}
	url := startServe(t, dir, data, "server-policy.yaml")
	env["SLIPWAY_TOKEN"] = tok

	code, stdout, stderr = runCLI(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	out := nameValues(stdout)
	if code != 0 || !strings.HasPrefix(out["release-id"], "r-") || out["log-index"] == "" || out["receipt"] != "dist/"+out["release-id"]+".receipt" {
		t.Fatalf("upload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, tok) {
		t.Error("the upload printed the token")
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
