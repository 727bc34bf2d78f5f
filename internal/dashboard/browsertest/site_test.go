package browsertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/testutil/servetest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// builder is the builder ID the site's policy trusts and its releases' provenance names.
const builder = "https://hpc.example.org/runners/browser"

// site is a real slipway serve --slurm cli with what every dashboard page shows.
type site struct {
	url  string
	logs *logbuf.Buffer
	// admitted are the admitted releases' IDs by source repository (github.com/acme/...).
	admitted map[string]string
	// digest is the SHA-256 digest of an artifact of the release of github.com/acme/app.
	digest string
	// refusedCheck is the check the 422 of the refused release's upload named.
	refusedCheck string
	// ticker is the release whose job prints "tick 1" to "tick <tickLines>", one a second (startJob).
	ticker string
	// Tokens: read; read,admin; read,dispatch.
	read, admin, dispatcher string
}

// tickLines is how many lines the job prints, one a second.
const tickLines = 15

// newSite starts the site: tokens, the server, three admitted releases, a refused one, and the job.
func newSite(t *testing.T) *site {
	t.Helper()
	c := slurmtest.Require(t)
	dir := t.TempDir()
	s := &site{logs: &logbuf.Buffer{}, admitted: map[string]string{}}
	key := sigstoretest.NewCosignKey(t, "pw")
	policy := writeTrust(t, dir, key, "dispatch:\n  - repositories: [github.com/acme/ticker]\n    partitions: ["+c.Partition+"]\n    maxTime: 5m\n    maxNodes: 1\n")

	// This test binary is slipway for the server and on the node (the shared directory every node sees).
	name := fmt.Sprintf("browser-%d", time.Now().UnixNano())
	bin := slipwayBin(t, filepath.Join(c.Shared, name+"-slipway"))
	work := filepath.Join(c.Shared, name)
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work); os.Remove(bin) })

	data := filepath.Join(dir, "data")
	uploader := createToken(t, dir, data, "upload,read", "uploader")
	s.read = createToken(t, dir, data, "read", "reader")
	s.admin = createToken(t, dir, data, "read,admin", "admin")
	s.dispatcher = createToken(t, dir, data, "read,dispatch", "dispatcher")
	s.url = servetest.Start(t, bin, nil, s.logs, "--data", data, "--listen", "127.0.0.1:0", "--policy", policy,
		"--rate-limit", "0", "--slurm", "cli", "--slurm-workdir", work, "--slurm-partition", c.Partition, "--slipway-path", bin)
	t.Cleanup(func() {
		if strings.Contains(s.logs.String(), s.read) || strings.Contains(s.logs.String(), s.admin) {
			t.Error("slipway serve logged a token")
		}
	})

	tick := "#!/bin/sh\ni=1\nwhile [ $i -le " + fmt.Sprint(tickLines) + " ]; do echo \"tick $i\"; sleep 1; i=$((i+1)); done\n"
	for _, r := range []struct {
		repo  string
		files map[string]string
	}{
		{"acme/app", map[string]string{"app.bin": "the app, version 1\n", "notes.txt": "release notes\n"}},
		{"acme/tools", map[string]string{"tool.bin": "a tool\n"}},
		{"acme/ticker", map[string]string{"tick.sh": tick}},
	} {
		s.admitted["github.com/"+r.repo] = admit(t, filepath.Join(dir, strings.ReplaceAll(r.repo, "/", "-")), key, s.url, uploader, r.repo, r.files)
	}
	var app struct {
		Artifacts []struct{ Name, Digest string }
	}
	s.api(t, "GET", "/api/v1/releases/"+s.admitted["github.com/acme/app"], s.read, nil, &app, http.StatusOK)
	s.digest = app.Artifacts[0].Digest
	s.refusedCheck = refuse(t, filepath.Join(dir, "acme-app-tampered"), key, s.url, uploader)

	s.ticker = s.admitted["github.com/acme/ticker"]
	return s
}

// startJob has the server submit the ticker's script to the cluster and returns the dispatch's ID; the job is
// cancelled when t ends if it still runs.
func (s *site) startJob(t *testing.T) string {
	t.Helper()
	var rel struct{ Artifacts []struct{ Name string } }
	s.api(t, "GET", "/api/v1/releases/"+s.ticker, s.read, nil, &rel, http.StatusOK)
	var d struct {
		DispatchID string `json:"dispatchId"`
	}
	s.api(t, "POST", "/api/v1/releases/"+s.ticker+"/dispatch", s.dispatcher, map[string]any{"script": rel.Artifacts[0].Name,
		"timeLimit": "3m", "cpusPerTask": 1, "mem": "64M"}, &d, http.StatusAccepted)
	t.Cleanup(func() { s.api(t, "POST", "/api/v1/dispatches/"+d.DispatchID+"/cancel", s.dispatcher, nil, nil, 0) })
	return d.DispatchID
}

// writeTrust writes dir/cosign.pub (key's public key) and dir/policy.yaml trusting it and builder, with the
// dispatch rules extra (YAML, "" for none).
func writeTrust(t testing.TB, dir string, key sigstoretest.CosignKey, extra string) string {
	t.Helper()
	writeFile(t, filepath.Join(dir, "cosign.pub"), string(key.PublicPEM), 0o644)
	policy := filepath.Join(dir, "policy.yaml")
	writeFile(t, policy, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n"+
		"builders: ["+builder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n"+extra, 0o644)
	return policy
}

// slipwayBin writes an executable file at path that runs this test binary as slipway.
func slipwayBin(t testing.TB, path string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n", 0o755)
	return path
}

// admit builds a release of repo's files in dir, uploads it to url with the token uploader, and returns its ID.
func admit(t testing.TB, dir string, key sigstoretest.CosignKey, url, uploader, repo string, files map[string]string) string {
	t.Helper()
	env := buildRelease(t, dir, key, repo, files)
	env["SLIPWAY_TOKEN"] = uploader
	code, stdout, stderr := runSlipway(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	id := nameValues(stdout)["release-id"]
	if code != 0 || id == "" {
		t.Fatalf("upload of %s: exit %d\n%s\n%s", repo, code, stdout, stderr)
	}
	return id
}

// refuse builds a release of acme/app in dir, signs it, then replaces an artifact and the manifest's record of it
// (the upload client checks the files against the manifest; only the signatures can tell), uploads it to url with
// the token uploader, and returns the check the server's 422 names.
func refuse(t testing.TB, dir string, key sigstoretest.CosignKey, url, uploader string) string {
	t.Helper()
	env := buildRelease(t, dir, key, "acme/app", map[string]string{"app.bin": "the app, version 2\n"})
	tamper(t, dir, "src/app.bin", "the app, version 2, with a backdoor\n")
	env["SLIPWAY_TOKEN"] = uploader
	code, stdout, stderr := runSlipway(t, dir, env, "upload", "--server", url, "--manifest", "dist/manifest.json")
	m := regexp.MustCompile(`422 Unprocessable Entity: check "([a-z-]+)" failed`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("upload of a changed artifact: exit %d, not a 422 naming a check\n%s\n%s", code, stdout, stderr)
	}
	return m[1]
}

// buildRelease builds a release of repo in dir as a GitHub Actions release job does (build of files, an SBOM of
// each, signature, provenance, the SBOMs attested) and returns the environment for its upload.
func buildRelease(t testing.TB, dir string, key sigstoretest.CosignKey, repo string, files map[string]string) map[string]string {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, "src", name), content, 0o755)
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_KEY": string(key.PrivatePEM), "COSIGN_PASSWORD": "pw",
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": repo, "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_WORKFLOW_REF": repo + "/.github/workflows/release.yml@refs/tags/v1", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "7", "GITHUB_OUTPUT": filepath.Join(dir, "github-output")}
	const m = "dist/manifest.json"
	steps := [][]string{{"build", "--command", "true", "--artifacts", "src/*"}}
	for name := range files {
		steps = append(steps, []string{"sbom", "--subject", "src/" + name, "--manifest", m})
	}
	steps = append(steps,
		[]string{"sign", "--manifest", m, "--tlog=false"},
		[]string{"attest", "--manifest", m, "--tlog=false", "--builder-id", builder},
		[]string{"attest", "--manifest", m, "--tlog=false", "--predicate-type", "cyclonedx"})
	for _, args := range steps {
		if code, stdout, stderr := runSlipway(t, dir, env, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	env["GITHUB_ACTIONS"] = ""
	return env
}

// tamper replaces the artifact name in dir's release and its record in the manifest, as an attacker who holds
// neither the signing key nor the uploader's secrets can.
func tamper(t testing.TB, dir, name, content string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, name), content, 0o644)
	path := filepath.Join(dir, "dist", "manifest.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range m["artifacts"].([]any) {
		if r := r.(map[string]any); r["name"] == name {
			sum := sha256.Sum256([]byte(content))
			r["digest"], r["size"], found = map[string]any{"sha256": hex.EncodeToString(sum[:])}, len(content), true
		}
	}
	if !found {
		t.Fatalf("the manifest has no record %q", name)
	}
	b, _ = json.Marshal(m)
	writeFile(t, path, string(b), 0o644)
}

// createToken creates a service token with scopes in data and returns it.
func createToken(t testing.TB, dir, data, scopes, name string) string {
	t.Helper()
	code, stdout, stderr := runSlipway(t, dir, nil, "token", "create", "--data", data, "--scope", scopes, "--name", name)
	tok := nameValues(stdout)["token"]
	if code != 0 || tok == "" {
		t.Fatalf("token create: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return tok
}

// api calls the control plane's API with tok and decodes its JSON answer into out (when not nil); a want other
// than 0 fails t on another status.
func (s *site) api(t *testing.T, method, path, tok string, body, out any, want int) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, r)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d\n%s", method, path, resp.Status, want, b)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// runSlipway runs "slipway args..." in-process in dir with env as the whole environment.
func runSlipway(t testing.TB, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Args: args, Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return dir, nil }})
	return code, stdout.String(), stderr.String()
}

// nameValues reads the name=value lines a command prints.
func nameValues(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func writeFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
